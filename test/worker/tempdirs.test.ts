import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Pool } from "../../src/index.js";
import { sweepStaleDirs } from "../../src/worker/private-dir.js";

/** The folders a process made: they are named after its pid, so a later start can tell they are orphans. */
const madeBy = (pid: number) => readdirSync(tmpdir()).filter((n) => n.startsWith(`tfbridge-${pid}-`));

describe("private folders", () => {
  it("a parent killed by SIGKILL leaves its socket folder behind only until the next start", async () => {
    const script = `import { Bridge } from "./src/index.ts"; const b = await Bridge.start(); process.stdout.write(String(b.pid) + "\\n"); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const workerPid = await new Promise<number>((resolve, reject) => {
      child.stdout!.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      child.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
    });
    const left = madeBy(child.pid!);
    expect(left.length).toBeGreaterThan(0);
    // The local link's shared memory has no name left once its worker answered: nothing to sweep there.
    expect(readdirSync("/dev/shm").filter((n) => n.startsWith(`tfbridge-shm-${child.pid}-`))).toEqual([]);
    child.kill("SIGKILL");
    // Its worker follows (stdin closes); the folder stays: nobody was left to remove it.
    const until = Date.now() + 30_000;
    while (Date.now() < until && (() => { try { process.kill(workerPid, 0); return true; } catch { return false; } })()) await new Promise((r) => setTimeout(r, 50));
    expect(left.every((n) => existsSync(join(tmpdir(), n)))).toBe(true);
    const pool = await Pool.start({ size: 0 }); // any start sweeps
    await pool.close();
    expect(left.filter((n) => existsSync(join(tmpdir(), n)))).toEqual([]);
  });
});

describe("tfbridge worker's scratch folder", () => {
  it("is named after the wrapper, so one left by a SIGKILLed `tfbridge worker` is swept at the next start", async () => {
    // Nothing listens on this port: the worker keeps retrying, which is all this needs.
    const wrapper = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "worker", "--connect", "tcp://127.0.0.1:9"], { stdio: ["ignore", "ignore", "ignore"] });
    const until = Date.now() + 30_000;
    while (Date.now() < until && madeBy(wrapper.pid!).length === 0) await new Promise((r) => setTimeout(r, 50));
    const left = madeBy(wrapper.pid!);
    expect(left.length).toBe(1);
    wrapper.kill("SIGKILL");
    await new Promise((r) => wrapper.once("exit", r));
    expect(existsSync(join(tmpdir(), left[0]!))).toBe(true);
    sweepStaleDirs();
    expect(existsSync(join(tmpdir(), left[0]!))).toBe(false);
  });
});

describe("the local link's shared-memory folders", () => {
  it("one left by a process that is gone (SIGKILLed before its worker mapped the regions) is swept", async () => {
    const gone = spawnSync("true").pid!; // exited: its pid names nobody alive
    const dir = mkdtempSync(join("/dev/shm", `tfbridge-shm-${gone}-`));
    writeFileSync(join(dir, "region"), "x", { mode: 0o600 });
    sweepStaleDirs();
    expect(existsSync(dir)).toBe(false);
  });
});

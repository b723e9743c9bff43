import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sweepStaleDirs } from "../../src/worker/private-dir.js";
import { CLI_MAIN } from "../cli/run.js";

/** The folders a process made under `root`: named after its pid, so a later start can tell they are orphans. */
const madeBy = (pid: number, root = tmpdir()) => readdirSync(root).filter((n) => n.startsWith(`tfbridge-${pid}-`));

/** Runs `script` (ES module, tsx) in a child Node; resolves with the first line it prints. */
function nodeChild(script: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"], env });
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
  });
  return { child, firstLine };
}

describe("private folders", () => {
  it("a parent killed by SIGKILL leaves its socket folder behind only until the next start", async () => {
    // A temporary root of its own: no other test's start (they run in parallel) sweeps it meanwhile.
    const root = mkdtempSync(join(tmpdir(), "tfbridge-test-sweep-"));
    const env = { ...process.env, TMPDIR: root };
    try {
      const { child, firstLine } = nodeChild(`import { Bridge } from "./src/index.ts"; const b = await Bridge.start(); process.stdout.write(String(b.pid) + "\\n"); setInterval(() => {}, 1000);`, env);
      const workerPid = Number(await firstLine);
      const left = madeBy(child.pid!, root);
      expect(left.length).toBeGreaterThan(0);
      // The local link's shared memory has no name left once its worker joined: nothing to sweep there.
      expect(readdirSync("/dev/shm").filter((n) => n.startsWith(`tfbridge-shm-${child.pid}-`))).toEqual([]);
      child.kill("SIGKILL");
      // Its worker follows (stdin closes); the folder stays: nobody was left to remove it.
      const until = Date.now() + 30_000;
      while (Date.now() < until && (() => { try { process.kill(workerPid, 0); return true; } catch { return false; } })()) await new Promise((r) => setTimeout(r, 50));
      expect(left.every((n) => existsSync(join(root, n)))).toBe(true);
      const sweeper = nodeChild(`import { Pool } from "./src/index.ts"; const p = await Pool.start({ size: 0 }); await p.close(); process.stdout.write("swept\\n");`, env);
      expect(await sweeper.firstLine).toBe("swept"); // any start sweeps
      expect(left.filter((n) => existsSync(join(root, n)))).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("tfbridge worker's scratch folder", () => {
  it("is named after the wrapper, so one left by a SIGKILLed `tfbridge worker` is swept at the next start", async () => {
    // Nothing listens on this port: the worker keeps retrying, which is all this needs.
    const wrapper = spawn(process.execPath, [CLI_MAIN, "worker", "--connect", "tcp://127.0.0.1:9"], { stdio: ["ignore", "ignore", "ignore"] });
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

  it("is removed on SIGTERM, and the wrapper ends by SIGTERM as its worker did (a clean stop to systemd, 143 to a shell)", async () => {
    const wrapper = spawn(process.execPath, [CLI_MAIN, "worker", "--connect", "tcp://127.0.0.1:9"], { stdio: ["ignore", "ignore", "ignore"] });
    const exited = once(wrapper, "exit");
    const children = () => readFileSync(`/proc/${wrapper.pid}/task/${wrapper.pid}/children`, "utf8").trim();
    const until = Date.now() + 30_000;
    while (Date.now() < until && children() === "") await new Promise((r) => setTimeout(r, 50));
    expect(madeBy(wrapper.pid!)).toHaveLength(1);
    wrapper.kill("SIGTERM");
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: null, signal: "SIGTERM" });
    expect(madeBy(wrapper.pid!)).toEqual([]);
  });

  it("is removed on a SIGTERM that comes as soon as it exists, while the worker is being started", async () => {
    // The folder comes a moment before the child: a SIGTERM then once took the default action and left it.
    const wrapper = spawn(process.execPath, [CLI_MAIN, "worker", "--connect", "tcp://127.0.0.1:9"], { stdio: ["ignore", "ignore", "ignore"] });
    const exited = once(wrapper, "exit");
    const until = Date.now() + 30_000;
    while (Date.now() < until && madeBy(wrapper.pid!).length === 0) await new Promise((r) => setImmediate(r));
    wrapper.kill("SIGTERM");
    const [, signal] = await exited;
    expect(signal).toBe("SIGTERM");
    expect(madeBy(wrapper.pid!)).toEqual([]);
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

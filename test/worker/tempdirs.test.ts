import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Pool } from "../../src/index.js";

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

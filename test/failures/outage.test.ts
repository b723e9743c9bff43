import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Pool, ndarray } from "../../src/index.js";
import { HEARTBEAT_MS, LIVENESS } from "../../src/wire/protocol.js";
import { defaultPython } from "../../src/worker/process.js";
import { packageRoot } from "../../src/paths.js";

const poll = async (done: () => boolean, timeoutMs: number) => {
  const until = Date.now() + timeoutMs;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return done();
};

const dir = mkdtempSync(join(tmpdir(), "tfbridge-test-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("outages (issue 10, breaks 4 and 5)", () => {
  it("a remote worker silent for 3 s (longer than the pool waits) comes back and serves", async () => {
    const endpoint = `ipc://${join(dir, "pool.sock")}`;
    const pool = await Pool.start({ size: 0, listen: [endpoint] });
    try {
      const worker = spawn(defaultPython(), ["-m", "tfbridge_worker", "--connect", endpoint], {
        env: { ...process.env, PYTHONPATH: join(packageRoot, "python") },
        stdio: "ignore",
      });
      children.push(worker);
      await pool.waitForWorkers(1, 60_000);
      const before = pool.workers[0]!;
      expect(before.remote).toBe(true);
      process.kill(worker.pid!, "SIGSTOP"); // the network blip: nothing in or out
      expect(await poll(() => pool.workers.length === 0, 10_000)).toBe(true); // the pool counted it gone
      await new Promise((r) => setTimeout(r, 1000));
      process.kill(worker.pid!, "SIGCONT");
      await pool.waitForWorkers(1, 10_000);
      expect(pool.workers[0]!.info.pid).toBe(worker.pid);
      const [back] = await pool.echo([ndarray("int16", [1], Int16Array.of(5))], { timeoutMs: 10_000 });
      expect(back!.data[0]).toBe(5);
      expect(worker.exitCode).toBeNull();
    } finally {
      await pool.close(true);
    }
  });

  it("a blocked Node event loop does not make the pool kill healthy workers", async () => {
    const pool = await Pool.start({ size: 1 });
    try {
      const pid = pool.workers[0]!.info.pid;
      const request = pool.call("sleep", { seconds: 0.2 }, [], { idempotent: false });
      // A synchronous stall, longer than liveness × heartbeat (5 s), in a setImmediate callback: the
      // event loop's next phase is the timers, so the pool's heartbeat check runs before any socket is read.
      await new Promise((r) => setTimeout(r, 100));
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          const blockedUntil = Date.now() + HEARTBEAT_MS * LIVENESS + 600;
          while (Date.now() < blockedUntil) {
            // no timers, no sockets: the request finishes in Python meanwhile
          }
          resolve();
        }),
      );
      await expect(request).resolves.toMatchObject({ result: { slept: 0.2 } });
      await new Promise((r) => setTimeout(r, 1500)); // ticks after the stall
      expect(pool.stats.replaced).toBe(0);
      expect(pool.workers.map((w) => w.info.pid)).toEqual([pid]);
    } finally {
      await pool.close();
    }
  });

  it("workers have random routing ids, not libzmq's sequence", async () => {
    const pool = await Pool.start({ size: 2, link: "zeromq" });
    try {
      const ids = pool.workers.map((w) => w.id);
      expect(ids.every((id) => id.length === 32)).toBe(true); // 16 bytes, hex
      expect(new Set(ids).size).toBe(2);
    } finally {
      await pool.close();
    }
  });
});

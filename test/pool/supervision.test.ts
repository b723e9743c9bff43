import { describe, expect, it } from "vitest";
import { BridgeClosedError, Pool, WorkerDiedError, ndarray } from "../../src/index.js";

const poll = async (done: () => boolean, timeoutMs: number) => {
  const until = Date.now() + timeoutMs;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return done();
};

// Each test starts (and restarts) TensorFlow workers: on a loaded 2-core machine, with other files'
// workers starting beside them, that alone can pass vitest's 60 s default.
const SLOW_MS = 180_000;

describe("supervision", () => {
  it("a wait for workers ends with BridgeClosedError when the pool closes, and one asked after at once", async () => {
    // Regression: a model load that passed its closing check waited out its 60 s for a worker after a
    // forced close (tfbridge serve stopped while reading a model), the wait told of failures only.
    const pool = await Pool.start({ size: 0, listen: [] });
    const waiting = pool.waitForWorkers(1, 60_000);
    const closing = pool.close(true);
    await expect(waiting).rejects.toBeInstanceOf(BridgeClosedError);
    await closing;
    await expect(pool.waitForWorkers(1)).rejects.toBeInstanceOf(BridgeClosedError);
  });

  it("SIGKILL with 1000+ requests in flight: each succeeds or fails typed, none lost or doubled, pool back to N", async () => {
    const pool = await Pool.start({ size: 2 });
    try {
      let settledTwice = 0;
      // One non-idempotent sleep lands on each worker first (least-loaded dispatch): the victim's must
      // fail with WorkerDiedError, the other must complete.
      const sleeps = Promise.allSettled([0, 1].map(() => pool.call("sleep", { seconds: 0.5 }, [], { idempotent: false })));
      const requests = Array.from({ length: 1200 }, (_, i) => {
        let settled = 0;
        // Every third request is not idempotent: it may not be retried, and must fail typed instead.
        const idempotent = i % 3 !== 0;
        return pool
          .call("echo", {}, [ndarray("int32", [1], new Int32Array([i]))], { idempotent })
          .then(
            (reply) => ({ ok: (reply.arrays[0]!.data as Int32Array)[0] === i, error: null }),
            (error: unknown) => ({ ok: false, error }),
          )
          .finally(() => {
            if (++settled > 1) settledTwice++;
          });
      });
      const victim = pool.workers[0]!.info.pid;
      await new Promise((r) => setTimeout(r, 100));
      process.kill(victim, "SIGKILL");
      const outcomes = await Promise.all(requests);
      const slept = await sleeps;
      expect(slept.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(slept.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason)).toEqual([expect.any(WorkerDiedError)]);
      expect(outcomes).toHaveLength(1200);
      expect(settledTwice).toBe(0);
      for (const o of outcomes) {
        if (!o.ok) expect(o.error).toBeInstanceOf(WorkerDiedError);
      }
      expect(outcomes.filter((o) => o.ok).length).toBeGreaterThan(1000);
      expect(pool.stats.diedWithRequests).toBe(1);
      await pool.waitForWorkers(2, 60_000);
      expect(pool.workers.map((w) => w.info.pid)).not.toContain(victim);
      expect((await pool.echo([ndarray("int8", [1], new Int8Array([1]))])).length).toBe(1);
    } finally {
      await pool.close();
    }
  }, SLOW_MS);

  it("a worker stuck in Python stops heartbeating and is replaced", async () => {
    const pool = await Pool.start({ size: 1 });
    try {
      const stuckPid = pool.workers[0]!.info.pid;
      // time.sleep cannot be interrupted: past its deadline the worker stops vouching for itself.
      const stuck = pool.call("sleep", { seconds: 3600 }, [], { timeoutMs: 300, idempotent: false }).catch((e: unknown) => e);
      expect((await stuck)!.constructor.name).toBe("RequestTimeoutError");
      expect(await poll(() => pool.stats.replaced === 1, 15_000)).toBe(true);
      await pool.waitForWorkers(1, 60_000);
      expect(pool.workers[0]!.info.pid).not.toBe(stuckPid);
      const [back] = await pool.echo([ndarray("float64", [1], new Float64Array([2.5]))]);
      expect(back!.data[0]).toBe(2.5);
    } finally {
      await pool.close();
    }
  }, SLOW_MS);

  it("close drains what is in flight; a second close forces the rest", async () => {
    const pool = await Pool.start({ size: 1, perWorkerInFlight: 1 });
    const running = pool.call("sleep", { seconds: 0.3 });
    const closed = pool.close();
    await expect(pool.call("hello")).rejects.toThrow(BridgeClosedError);
    await closed;
    await expect(running).resolves.toMatchObject({ result: { slept: 0.3 } });

    const busy = await Pool.start({ size: 1, perWorkerInFlight: 1 });
    const long = busy.call("sleep", { seconds: 30 }).catch((e: unknown) => e);
    const queued = busy.call("hello").catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    const graceful = busy.close();
    await busy.close(); // the second one forces
    await graceful;
    expect(await long).toBeInstanceOf(BridgeClosedError);
    expect(await queued).toBeInstanceOf(BridgeClosedError);
  }, SLOW_MS);
});

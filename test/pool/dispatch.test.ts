import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BridgeClosedError, OverloadedError, Pool, RequestAbortedError, RequestTimeoutError, ndarray } from "../../src/index.js";

describe("a pool of two local workers", () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = await Pool.start({ size: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it("starts N workers and offers the same API as one bridge", async () => {
    expect(pool.workers).toHaveLength(2);
    expect(new Set(pool.workers.map((w) => w.info.pid)).size).toBe(2);
    const x = ndarray("float32", [2, 10, 1], new Float32Array(20).fill(0.25));
    const r = await pool.runLstm({ units: 32, inputShape: [10, 1] }, x);
    expect(r.output.shape).toEqual([2, 32]);
    expect(r.spec.recurrentActivation).toBe("sigmoid");
  });

  it("sends each new request to the least-loaded worker", async () => {
    const sleeps = [pool.call("sleep", { seconds: 0.3 }), pool.call("sleep", { seconds: 0.3 })];
    expect(pool.workers.map((w) => w.inFlight)).toEqual([1, 1]); // one each, not two on one
    const third = pool.call("sleep", { seconds: 0.3 });
    expect(pool.workers.map((w) => w.inFlight).sort()).toEqual([1, 2]);
    await Promise.all([...sleeps, third]);
    expect(pool.workers.every((w) => w.inFlight === 0)).toBe(true);
  });

  it("a deadline rejects the request and the pool serves on", async () => {
    await expect(pool.call("sleep", { seconds: 0.8 }, [], { timeoutMs: 100 })).rejects.toThrow(RequestTimeoutError);
    expect((await pool.echo([ndarray("int8", [1], new Int8Array([5]))]))[0]!.data[0]).toBe(5);
  });

  it("an AbortSignal cancels a queued request", async () => {
    const blockers = [pool.call("sleep", { seconds: 0.5 }), pool.call("sleep", { seconds: 0.5 }), pool.call("sleep", { seconds: 0.5 }), pool.call("sleep", { seconds: 0.5 })];
    const controller = new AbortController();
    const queued = pool.call("hello", {}, [], { signal: controller.signal });
    controller.abort(new Error("no longer needed"));
    await expect(queued).rejects.toThrow(RequestAbortedError);
    await Promise.all(blockers);
  });
});

describe("backpressure", () => {
  it("whenFull 'reject' refuses with OverloadedError; 'wait' lets every request through", async () => {
    const strict = await Pool.start({ size: 1, maxQueue: 2, perWorkerInFlight: 1, whenFull: "reject" });
    try {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => strict.call("sleep", { seconds: 0.05 })));
      const refused = results.filter((r) => r.status === "rejected");
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(OverloadedError);
      expect(results.filter((r) => r.status === "fulfilled").length).toBe(3); // one running + two queued
    } finally {
      await strict.close();
    }
    const patient = await Pool.start({ size: 1, maxQueue: 2, perWorkerInFlight: 1, whenFull: "wait" });
    try {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => patient.call("sleep", { seconds: 0.02 })));
      expect(results.every((r) => r.status === "fulfilled")).toBe(true);
    } finally {
      await patient.close();
    }
  });

  it("a caller that gives up while waiting for room is never sent, and takes no worker's place", async () => {
    const pool = await Pool.start({ size: 1, maxQueue: 1, perWorkerInFlight: 1, whenFull: "wait" });
    try {
      const running = pool.call("sleep", { seconds: 0.6 });
      const queued = pool.call("sleep", { seconds: 0.1 });
      const gaveUp = pool.call("sleep", { seconds: 5 }, [], { timeoutMs: 100 }); // waits for room, then times out
      await expect(gaveUp).rejects.toThrow(RequestTimeoutError);
      await Promise.all([running, queued]);
      // Had the abandoned request been sent once room came, it would hold the worker's one slot for good.
      await expect(pool.call("hello", {}, [], { timeoutMs: 5000 })).resolves.toBeDefined();
      expect(pool.workers[0]!.inFlight).toBe(0);
    } finally {
      await pool.close(true);
    }
  });

  it("close wakes every caller still waiting for room: each gets BridgeClosedError, none is left hanging", async () => {
    const pool = await Pool.start({ size: 1, maxQueue: 1, perWorkerInFlight: 1, whenFull: "wait", defaultTimeoutMs: Infinity });
    const settled = Promise.allSettled(Array.from({ length: 6 }, () => pool.call("sleep", { seconds: 0.3 })));
    await new Promise((r) => setTimeout(r, 50));
    await pool.close(true);
    const results = await settled; // before the fix, four of them never settled
    for (const r of results) expect(r.status === "rejected" && r.reason instanceof BridgeClosedError).toBe(true);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NDArray, OverloadedError, Pool, RequestTimeoutError, WireError, layers, sequential } from "../../src/index.js";
import { seededInput } from "../../src/random.js";
import { Batcher } from "../../src/serving/batcher.js";
import { bytesOf } from "../helpers.js";

// An LSTM over any number of timesteps: requests of different lengths must never merge (issue 23 #2).
const freeAxis = () => sequential({ inputShape: [null, 1], layers: [layers.lstm({ units: 4 })] });
const steps = (n: number, seed: number) => seededInput([1, n, 1], seed);
const bits = (a: NDArray) => bytesOf(a.data).toString("hex");

let pool: Pool;
beforeAll(async () => {
  pool = await Pool.start({ size: 1, perWorkerInFlight: 1, maxQueue: 4, whenFull: "reject", defaultTimeoutMs: 4_000 });
  await pool.loadModel({ config: freeAxis(), seed: 2 }, { name: "plain" });
});
afterAll(() => pool.close(true));

describe("batching only merges requests of one shape", () => {
  it.each([
    ["exact (split in the worker)", { maxBatchSize: 8, maxDelayMicros: 50_000, exact: true }],
    ["padded to allowed sizes", { maxBatchSize: 8, maxDelayMicros: 50_000, allowedBatchSizes: [4, 8] }],
  ])("%s: a 12-step and a 5-step request arriving together each get their own numbers", async (label, batching) => {
    const name = label.startsWith("exact") ? "exact" : "padded";
    await pool.loadModel({ config: freeAxis(), seed: 2 }, { name, batching });
    const requests = [steps(12, 1), steps(5, 2), steps(12, 3), steps(5, 4)];
    const batched = await Promise.all(requests.map((x) => pool.predict(name, x)));
    for (const [i, x] of requests.entries()) {
      const alone = (await pool.predict("plain", x)).outputs.lstm!;
      const got = batched[i]!.outputs.lstm!;
      expect(got.shape).toEqual([1, 4]);
      if (name === "exact") expect(bits(got), `request ${i}`).toBe(bits(alone));
      else (got.data as Float32Array).forEach((v, k) => expect(Math.abs(v - (alone.data as Float32Array)[k]!), `request ${i}`).toBeLessThan(1e-6));
    }
  });
});

describe("a batched predict is bounded like any other request", () => {
  it("it gets the pool's default deadline when it sets none", async () => {
    await pool.loadModel({ config: freeAxis(), seed: 2 }, { name: "deadline", batching: { maxBatchSize: 4, maxDelayMicros: 0 } });
    const order: string[] = [];
    // The only worker, busy for longer than the default deadline.
    const busy = pool.call("sleep", { seconds: 8 }, [], { timeoutMs: 20_000 }).then(() => order.push("worker free"));
    const error = await pool.predict("deadline", steps(3, 1)).catch((e: unknown) => e);
    order.push("predict settled");
    expect(error).toBeInstanceOf(RequestTimeoutError);
    await busy;
    expect(order).toEqual(["predict settled", "worker free"]);
  }, 30_000);

  it("callers waiting in batches count against maxQueue: one more is refused at once (HTTP 429)", async () => {
    await pool.loadModel({ config: freeAxis(), seed: 2 }, { name: "bounded", batching: { maxBatchSize: 64, maxDelayMicros: 60_000_000 } });
    const abort = new AbortController();
    const waiting = [1, 2, 3, 4].map((seed) => pool.predict("bounded", steps(3, seed), { signal: abort.signal }).catch((e: unknown) => e));
    await expect(pool.predict("bounded", steps(3, 9))).rejects.toThrow(OverloadedError);
    abort.abort();
    await Promise.all(waiting);
    // Room again once they gave up.
    const next = pool.predict("bounded", steps(3, 9), { timeoutMs: 1 }).catch((e: unknown) => e);
    expect(await next).toBeInstanceOf(RequestTimeoutError);
  });
});

describe("a throw while a batch is merged or sent", () => {
  it("settles each caller of the batch with a typed error, and the batcher serves on", async () => {
    let calls = 0;
    const batcher = new Batcher({ maxBatchSize: 4, maxDelayMicros: 0 }, 1 << 20, () => 1, async () => {
      if (calls++ === 0) throw new RangeError("offset is out of bounds");
      return { result: { mode: "session", runMs: 0 }, arrays: [seededInput([1, 1], 0)], names: ["y"] };
    }, () => {});
    const error = await batcher.submit([seededInput([1, 2], 1)], "session", "model", { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WireError);
    expect((error as Error).message).toMatch(/offset is out of bounds/);
    expect((await batcher.submit([seededInput([1, 2], 1)], "session", "model", { timeoutMs: 1_000 })).names).toEqual(["y"]);
  });
});

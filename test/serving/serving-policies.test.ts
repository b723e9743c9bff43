import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelError, ModelLoadError, OverloadedError, Pool, RequestAbortedError, RequestTimeoutError, input, layers, model as functional, sequential, zeros } from "../../src/index.js";
import { seededInput } from "../../src/random.js";

// Issue 22's serving features the anchors have (Triton's dynamic batcher, TF Serving's warm-up): priority
// levels, a queue policy, preferred batch sizes, a per-model limit on concurrent runs, warm-up inputs by name. A real worker, kept busy with
// `sleep` where the order in which held batches go is what is tested.
const model = () => sequential({ inputShape: [3], layers: [layers.dense({ units: 2 })] });
const x = (seed: number) => seededInput([1, 3], seed);

let pool: Pool;
beforeAll(async () => {
  pool = await Pool.start({ size: 1, perWorkerInFlight: 1, defaultTimeoutMs: 20_000 });
});
afterAll(() => pool.close(true));

/** Occupies the only worker for `seconds`. */
const busy = (seconds: number) => pool.call("sleep", { seconds }, [], { timeoutMs: 30_000 });

describe("priority levels", () => {
  it("a held batch of level 1 goes before one of level 2 that arrived earlier", async () => {
    await pool.loadModel({ config: model(), seed: 1 }, { name: "prio", batching: { maxBatchSize: 1, maxDelayMicros: 0, priorityLevels: 2 } });
    const order: string[] = [];
    const sleeping = busy(1.5);
    const run = (label: string, priority: number) => pool.predict("prio", x(1), { priority }).then(() => order.push(label));
    // A takes the version's one run slot (it waits behind the sleep in the pool); B and C wait in the batcher.
    const all = [run("A", 2), run("B", 2), run("C", 1)];
    await Promise.all([sleeping, ...all]);
    expect(order).toEqual(["A", "C", "B"]);
  });

  it("a level outside 1..priorityLevels, or a priority for a version that does not batch, is a ModelError", async () => {
    await expect(pool.predict("prio", x(1), { priority: 3 })).rejects.toThrow(/priority must be an integer from 1 to 2/);
    await pool.loadModel({ config: model(), seed: 1 }, { name: "unbatched" });
    await expect(pool.predict("unbatched", x(1), { priority: 2 })).rejects.toThrow(ModelError);
    expect((await pool.predict("unbatched", x(1), { priority: 1 })).outputs.dense!.shape).toEqual([1, 2]);
  });
});

describe("the queue policy", () => {
  it("reject: a request still queued past the timeout fails with OverloadedError (HTTP 429); the one sent is answered", async () => {
    await pool.loadModel({ config: model(), seed: 1 }, { name: "reject", batching: { maxBatchSize: 1, maxDelayMicros: 0, queuePolicy: { timeoutMicros: 200_000, action: "reject" } } });
    const sleeping = busy(1.5);
    const sent = pool.predict("reject", x(1));
    const queued = pool.predict("reject", x(2)).catch((e: unknown) => e);
    const error = await queued;
    expect(error).toBeInstanceOf(OverloadedError);
    expect((error as Error).message).toMatch(/queuePolicy: reject/);
    expect((await sent).outputs.dense!.shape).toEqual([1, 2]);
    await sleeping;
  });

  it("delay: a request past the timeout stays queued, behind the requests that are not", async () => {
    await pool.loadModel({ config: model(), seed: 1 }, { name: "delay", batching: { maxBatchSize: 1, maxDelayMicros: 0, priorityLevels: 2, queuePolicy: { timeoutMicros: 1_500_000, action: "delay" } } });
    const order: string[] = [];
    const sleeping = busy(3);
    const run = (label: string, priority: number) => pool.predict("delay", x(1), { priority }).then(() => order.push(label));
    const first = run("A", 2);
    const late = run("B", 1); // the higher level, but it will have waited 3 s, past the policy's 1.5 s
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const fresh = run("C", 2); // waits about 1 s: within the policy when A's run ends
    await Promise.all([sleeping, first, late, fresh]);
    expect(order).toEqual(["A", "C", "B"]);
  });

  it("delay: a request arriving after a batch went late starts a batch of its own, not last in line", async () => {
    await pool.loadModel({ config: model(), seed: 1 }, { name: "delay2", batching: { maxBatchSize: 2, maxDelayMicros: 0, queuePolicy: { timeoutMicros: 1_500_000, action: "delay" } } });
    const order: string[] = [];
    const sleeping = busy(3);
    const run = (label: string) => pool.predict("delay2", x(1)).then(() => order.push(label));
    const first = run("A");
    const late = run("B"); // waits in a batch with room for one more, and goes late at 1.5 s
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const fresh = run("D"); // would have joined B's late batch
    await Promise.all([sleeping, first, late, fresh]);
    expect(order).toEqual(["A", "D", "B"]);
  });
});

describe("preferred batch sizes", () => {
  it("a batch that reaches one goes without waiting out maxDelayMicros; a lone request still waits", async () => {
    await pool.loadModel({ config: model(), seed: 1 }, { name: "preferred", batching: { maxBatchSize: 8, maxDelayMicros: 60_000_000, preferredBatchSizes: [2] } });
    // One request: the batch waits for its 60 s delay, past this request's deadline.
    expect(await pool.predict("preferred", x(1), { timeoutMs: 1_000 }).catch((e: unknown) => e)).toBeInstanceOf(RequestTimeoutError);
    // Two: the preferred size, sent at once.
    const [a, b] = await Promise.all([pool.predict("preferred", x(1), { timeoutMs: 10_000 }), pool.predict("preferred", x(2), { timeoutMs: 10_000 })]);
    expect(a.outputs.dense!.shape).toEqual([1, 2]);
    expect(b.outputs.dense!.shape).toEqual([1, 2]);
    // One row then two: the batch steps over 2 to 3 rows, which passes the preferred size too.
    const [c, d] = await Promise.all([pool.predict("preferred", x(1), { timeoutMs: 10_000 }), pool.predict("preferred", seededInput([2, 3], 3), { timeoutMs: 10_000 })]);
    expect(c.outputs.dense!.shape).toEqual([1, 2]);
    expect(d.outputs.dense!.shape).toEqual([2, 2]);
  });
});

describe("maxConcurrentRuns", () => {
  it("holds a version's batches in its queue beyond that many runs, even where the pool takes more", async () => {
    await using wide = await Pool.start({ size: 1, perWorkerInFlight: 2, defaultTimeoutMs: 20_000 });
    const policy = { timeoutMicros: 300_000, action: "reject" as const };
    await wide.loadModel({ config: model(), seed: 1 }, { name: "limited", batching: { maxBatchSize: 1, maxDelayMicros: 0, maxConcurrentRuns: 1, queuePolicy: policy } });
    await wide.loadModel({ config: model(), seed: 1 }, { name: "unlimited", batching: { maxBatchSize: 1, maxDelayMicros: 0, queuePolicy: policy } });
    const sleeping = wide.call("sleep", { seconds: 1.5 }, [], { timeoutMs: 30_000 });
    // The pool takes two runs at once: without the limit both requests leave the batcher (no queue timeout).
    const unlimited = await Promise.all([wide.predict("unlimited", x(1)), wide.predict("unlimited", x(2))].map((p) => p.catch((e: unknown) => e)));
    expect(unlimited.filter((r) => r instanceof Error)).toEqual([]);
    await sleeping;
    const sleepingAgain = wide.call("sleep", { seconds: 1.5 }, [], { timeoutMs: 30_000 });
    const limited = await Promise.all([wide.predict("limited", x(1)), wide.predict("limited", x(2))].map((p) => p.catch((e: unknown) => e)));
    expect(limited.filter((r) => r instanceof OverloadedError)).toHaveLength(1);
    await sleepingAgain;
  });
});

describe("maxConcurrentRequests, for versions that do not batch", () => {
  it("holds the version's requests beyond the limit in arrival order, within their deadlines, and frees each slot however its request ends", async () => {
    // The pool would send three at once (perWorkerInFlight 3); the limit lets one of the version's through.
    await using wide = await Pool.start({ size: 1, perWorkerInFlight: 3, defaultTimeoutMs: 20_000 });
    await wide.loadModel({ config: model(), seed: 1 }, { name: "limited", maxConcurrentRequests: 1 });
    expect(wide.models().find((m) => m.name === "limited")?.maxConcurrentRequests).toBe(1);
    const sleeping = wide.call("sleep", { seconds: 1.5 }, [], { timeoutMs: 30_000 });
    const order: string[] = [];
    const run = (label: string, options = {}) => wide.predict("limited", x(1), options).then(() => order.push(label));
    const a = run("A");
    const gone = new AbortController();
    const aborted = run("aborted", { signal: gone.signal }).catch((e: unknown) => e);
    const late = run("late", { timeoutMs: 300 }).catch((e: unknown) => e);
    const b = run("B");
    await new Promise((resolve) => setImmediate(resolve));
    expect(wide.workers[0]!.inFlight).toBe(2); // the sleep and A; the rest wait in the version's queue
    gone.abort(new Error("the caller left"));
    expect(await aborted).toBeInstanceOf(RequestAbortedError);
    const timedOut = await late;
    expect(timedOut).toBeInstanceOf(RequestTimeoutError);
    expect((timedOut as Error).message).toMatch(/within 300 ms/);
    await Promise.all([sleeping, a, b]);
    expect(order).toEqual(["A", "B"]);
    // Every slot came back: as many requests as the limit allows go at once again.
    await Promise.all([run("C"), run("D")]);
    expect(order).toEqual(["A", "B", "C", "D"]);
  });

  it("a pool that closes answers the requests still waiting for a slot, as it drains held batches", async () => {
    const closing = await Pool.start({ size: 1, perWorkerInFlight: 3, defaultTimeoutMs: 20_000 });
    await closing.loadModel({ config: model(), seed: 1 }, { name: "limited", maxConcurrentRequests: 1 });
    const sleeping = closing.call("sleep", { seconds: 1 }, [], { timeoutMs: 30_000 });
    const results = [1, 2, 3].map((seed) => closing.predict("limited", x(seed)).then(() => "ok", (e: Error) => e.name));
    await new Promise((resolve) => setImmediate(resolve));
    await closing.close(); // before, the two still waiting were sent to a closing pool: BridgeClosedError
    expect(await Promise.all(results)).toEqual(["ok", "ok", "ok"]);
    await sleeping;
  });

  it("beyond the pool's queue bound (whenFull: reject) the next request is refused with OverloadedError (HTTP 429)", async () => {
    await using bounded = await Pool.start({ size: 1, perWorkerInFlight: 3, maxQueue: 1, whenFull: "reject", defaultTimeoutMs: 20_000 });
    await bounded.loadModel({ config: model(), seed: 1 }, { name: "limited", maxConcurrentRequests: 1 });
    const sleeping = bounded.call("sleep", { seconds: 1 }, [], { timeoutMs: 30_000 });
    const results = await Promise.all([1, 2, 3].map((seed) => bounded.predict("limited", x(seed)).catch((e: unknown) => e)));
    expect(results.map((r) => (r instanceof Error ? r.name : "ok"))).toEqual(["ok", "ok", "OverloadedError"]);
    await sleeping;
  });

  it.each([
    [{ maxConcurrentRequests: 0 }, /maxConcurrentRequests must be an integer ≥ 1, got 0/],
    [{ maxConcurrentRequests: 2, batching: { maxBatchSize: 4, maxDelayMicros: 0 } }, /maxConcurrentRequests is for versions that do not batch/],
  ])("%j is refused when loaded", async (options, message) => {
    await expect(pool.loadModel({ config: model(), seed: 1 }, { name: "bad", ...options })).rejects.toThrow(message);
  });
});

describe("warm-up inputs by name", () => {
  // Two inputs of different widths: warm-up arrays in the wrong order would fail the load on their shapes.
  const twoInputs = () => {
    const a = input({ shape: [3], name: "a" });
    const b = input({ shape: [5], name: "b" });
    return functional({ inputs: [a, b], outputs: layers.dense({ units: 2, name: "out" }).apply(layers.concatenate({ name: "ab" }).apply([a, b])) });
  };

  it("are put in the model's input order, whatever order the record lists them in", async () => {
    const served = await pool.loadModel({ config: twoInputs(), seed: 1 }, { name: "warm", warmup: { inputs: { b: zeros("float32", [1, 5]), a: zeros("float32", [1, 3]) } } });
    expect(served.inputs.map((i) => i.name)).toEqual(["a", "b"]);
    expect((await pool.predict("warm", { a: zeros("float32", [2, 3]), b: zeros("float32", [2, 5]) })).outputs.out!.shape).toEqual([2, 2]);
  });

  it.each([
    ["a model the workers load now", 2],
    ["the same bytes as a version loaded already (warm, not run again)", 1],
  ])("an unknown or missing name fails the load, naming it: %s", async (_, seed) => {
    const error = await pool.loadModel({ config: twoInputs(), seed }, { name: "cold", warmup: { inputs: { a: zeros("float32", [1, 3]), c: zeros("float32", [1, 5]) } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toMatch(/unknown c; missing b/);
    expect(pool.models().map((m) => m.name)).not.toContain("cold");
  });

  it("an empty record leaves every input out: the load fails naming them", async () => {
    const error = await pool.loadModel({ config: twoInputs(), seed: 3 }, { name: "empty", warmup: { inputs: {} } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toMatch(/missing a, b/);
  });
});

describe("checked when loaded", () => {
  it.each([
    [{ maxBatchSize: 4, maxDelayMicros: 0, preferredBatchSizes: [8] }, /preferredBatchSizes must be integers from 1 to maxBatchSize/],
    [{ maxBatchSize: 4, maxDelayMicros: 0, priorityLevels: 0 }, /priorityLevels must be an integer ≥ 1/],
    [{ maxBatchSize: 4, maxDelayMicros: 0, priorityLevels: 2, defaultPriority: 3 }, /defaultPriority must be an integer from 1 to 2/],
    [{ maxBatchSize: 4, maxDelayMicros: 0, queuePolicy: { timeoutMicros: 10, action: "drop" } }, /queuePolicy must be/],
    [{ maxBatchSize: 4, maxDelayMicros: 0, maxConcurrentRuns: 0 }, /maxConcurrentRuns must be an integer ≥ 1/],
    [{ maxBatchSize: 4, maxDelayMicros: 5_000, queuePolicy: { timeoutMicros: 5_000, action: "reject" } }, /timeoutMicros \(5000\) must be more than maxDelayMicros \(5000\)/],
  ])("%j", async (batching, message) => {
    await expect(pool.loadModel({ config: model(), seed: 1 }, { name: "bad", batching: batching as never })).rejects.toThrow(message);
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { ModelError, ModelNotFoundError, type NDArray, Pool, RequestAbortedError, layers, lstmModel, ndarray, sequential } from "../../src/index.js";
import { REFERENCE_MODELS, seededModelInputs } from "../../src/entry/parity.js";
import { type ServedPrediction } from "../../src/entry/serving.js";
import { measureBatchExactness, rowOf } from "../../src/serving/exactness.js";
import { bytesOf, sharedBridge } from "../helpers.js";

// Pools serve models; a SavedModel to serve is written by a Bridge's model handle.
const bridge = sharedBridge();

// One pool of two workers for the whole file: each test loads its own tiny models under its own names.
let pool: Pool;
beforeAll(async () => {
  pool = await Pool.start({ size: 2 });
}, 180_000);
afterAll(async () => {
  await pool?.close();
});

const tiny = (units = 4) => sequential({ name: "tiny", inputShape: [5, 2], layers: [layers.lstm({ units }), layers.dense({ units: 3 })] });
const x = (rows: number, seed = 1): NDArray<"float32"> =>
  ndarray("float32", [rows, 5, 2], Float32Array.from({ length: rows * 10 }, (_, i) => Math.sin(seed * 1000 + i)));
const bits = (a: NDArray) => bytesOf(a.data).toString("hex");
const metric = (text: string, line: RegExp) => Number(text.split("\n").find((l) => line.test(l))?.split(" ").at(-1) ?? NaN);

describe("models on a pool", () => {
  it("loads a description on every worker, warmed, and serves it from any of them", async () => {
    const served = await pool.loadModel({ config: tiny(), seed: 7 }, { name: "tiny" });
    expect(served.version).toBe(1);
    expect(pool.models()).toEqual([expect.objectContaining({ name: "tiny", version: 1, isDefault: true, workers: 2, batching: null })]);
    expect(pool.servedVersion("tiny")).toEqual(pool.models()[0]);
    expect(pool.servedVersion("tiny", 1).inputs).toEqual(served.inputs);
    expect(() => pool.servedVersion("tiny", 2)).toThrow(ModelNotFoundError);
    expect(() => pool.servedVersion("nope")).toThrow(ModelNotFoundError);
    expect(served.inputs.map((i) => i.shape)).toEqual([[null, 5, 2]]);
    // Two at once: one per worker (least-loaded dispatch), and both workers compute the same bits.
    const [a, b] = await Promise.all([pool.predict("tiny", x(3)), served.predict(x(3))]);
    expect(a.outputs.dense!.shape).toEqual([3, 3]);
    expect(bits(a.outputs.dense!)).toBe(bits(b.outputs.dense!));
    expect([a.model, a.version]).toEqual(["tiny", 1]);
  });

  it("a SavedModel folder travels as bytes and computes what the LSTM it was exported from computes", async () => {
    const spec = { units: 6, inputShape: [5, 2] as [number, number], seed: 11 };
    const { config, resolved } = lstmModel(spec);
    const scratch = mkdtempSync(join(tmpdir(), "tfbridge-exported-"));
    onTestFinished(() => rmSync(scratch, { recursive: true, force: true }));
    await using exported = await bridge().model(config, { seed: resolved.seed });
    const folder = await exported.exportSavedModel(join(scratch, "lstm"));
    await pool.loadModel(folder, { name: "exported" });
    const direct = await pool.runLstm(spec, x(4));
    const served = await pool.predict("exported", { input: x(4) });
    expect(served.names).toEqual(["output_0"]); // the signature's name for the layer's output
    const out = served.outputs.output_0!.data as Float32Array;
    (direct.output.data as Float32Array).forEach((v, i) => expect(Math.abs(v - out[i]!)).toBeLessThan(1e-6));
  });

  it("versions side by side: the default, an explicit version, a new default, unload", async () => {
    await pool.loadModel({ config: tiny(), seed: 1 }, { name: "versions" });
    await pool.loadModel({ config: tiny(), seed: 2 }, { name: "versions" });
    const [v1, v2, byDefault] = await Promise.all([
      pool.predict("versions", x(2), { version: 1 }),
      pool.predict("versions", x(2), { version: 2 }),
      pool.predict("versions", x(2)),
    ]);
    expect(bits(v1.outputs.dense!)).not.toBe(bits(v2.outputs.dense!));
    expect(byDefault.version).toBe(1); // the first version loaded stays the default
    pool.setDefaultVersion("versions", 2);
    expect((await pool.predict("versions", x(2))).version).toBe(2);
    await pool.unloadModel("versions", 2);
    expect((await pool.predict("versions", x(2))).version).toBe(1); // the highest left takes over
    await expect(pool.predict("versions", x(2), { version: 2 })).rejects.toThrow(ModelNotFoundError);
    await expect(pool.loadModel({ config: tiny(), seed: 1 }, { name: "versions", version: 1 })).rejects.toThrow(/version 1 is loaded already/);
  });

  it("bad requests fail typed before anything is queued", async () => {
    await pool.loadModel({ config: tiny(), seed: 1 }, { name: "strict" });
    const cases: [() => Promise<unknown>, new (...a: never[]) => Error, RegExp][] = [
      [() => pool.predict("nope", x(1)), ModelNotFoundError, /"nope": no such model/],
      [() => pool.predict("strict", x(1), { version: 9 }), ModelNotFoundError, /version 9: no such version \(loaded: 1\)/],
      [() => pool.predict("strict", { wrong: x(1) }), ModelError, /no model input named wrong/],
      [() => pool.predict("strict", ndarray("float64", [1, 5, 2], new Float64Array(10))), ModelError, /must be float32, got float64/],
      [() => pool.predict("strict", ndarray("float32", [1, 4, 2], new Float32Array(8))), ModelError, /must have shape \[null,5,2\]/],
      [() => pool.loadModel({ config: tiny() }, { name: "bad name!" }), ModelError, /name must be/],
      [() => pool.loadModel("/nonexistent/model.keras", { name: "missing" }), ModelError, /no such file or folder/],
      [() => pool.loadModel({ config: tiny() }, { name: "b", batching: { maxBatchSize: 8, maxDelayMicros: 0, allowedBatchSizes: [2, 4] } }), ModelError, /must reach maxBatchSize/],
    ];
    const dispatched = async () => metric(await pool.metrics(), /^tfbridge_queue_wait_seconds_count\{op="serve.predict"\}/);
    const before = await dispatched();
    for (const [run, type, message] of cases) {
      const error = await run().then(() => null, (e: Error) => e);
      expect(error).toBeInstanceOf(type);
      expect(error!.message).toMatch(message);
    }
    expect(await dispatched()).toBe(before); // refused here: no request went to a worker
    expect(pool.models().map((m) => m.name)).not.toContain("b");
  });

  it("unload while requests are queued: they finish, later ones fail typed", async () => {
    await pool.loadModel({ config: tiny(), seed: 3 }, { name: "leaving" });
    const queued = Array.from({ length: 12 }, (_, i) => pool.predict("leaving", x(1, i)));
    const unloaded = pool.unloadModel("leaving");
    await expect(pool.predict("leaving", x(1))).rejects.toThrow(ModelNotFoundError);
    const outcomes = await Promise.allSettled(queued);
    expect(outcomes.map((o) => o.status)).toEqual(Array(12).fill("fulfilled"));
    await unloaded;
    expect(pool.models().some((m) => m.name === "leaving")).toBe(false);
  });
});

describe("dynamic batching", () => {
  it("merges concurrent requests, pads to an allowed size, and gives each caller exactly its rows", async () => {
    await pool.loadModel({ config: tiny(), seed: 5 }, { name: "merged", batching: { maxBatchSize: 8, maxDelayMicros: 50_000, allowedBatchSizes: [4, 8] } });
    await pool.loadModel({ config: tiny(), seed: 5 }, { name: "alone" });
    const sizes = [1, 2, 1, 3]; // 7 rows: one run, padded to 8
    const merged = await Promise.all(sizes.map((n, i) => pool.predict("merged", x(n, i))));
    const alone = await Promise.all(sizes.map((n, i) => pool.predict("alone", x(n, i))));
    merged.forEach((m, i) => {
      expect(m.outputs.dense!.shape).toEqual([sizes[i], 3]);
      const a = alone[i]!.outputs.dense!.data as Float32Array;
      (m.outputs.dense!.data as Float32Array).forEach((v, k) => expect(Math.abs(v - a[k]!)).toBeLessThan(1e-6));
    });
    const text = await pool.metrics();
    expect(metric(text, /^tfbridge_batch_size_count\{model="merged",version="1"\}/)).toBe(1);
    expect(metric(text, /^tfbridge_batch_size_sum\{model="merged",version="1"\}/)).toBe(8);
  });

  it("each caller keeps its own cancellation: one aborts, the others get their rows", async () => {
    await pool.loadModel({ config: tiny(), seed: 5 }, { name: "cancel", batching: { maxBatchSize: 16, maxDelayMicros: 100_000 } });
    const controller = new AbortController();
    const calls = [0, 1, 2].map((i) => pool.predict("cancel", x(1, i), i === 1 ? { signal: controller.signal } : {}));
    controller.abort(new Error("caller left"));
    const [a, b, c] = await Promise.allSettled(calls);
    expect(b!.status === "rejected" && b.reason).toBeInstanceOf(RequestAbortedError);
    expect([a!.status, c!.status]).toEqual(["fulfilled", "fulfilled"]);
  });

  it("merged rows can differ from rows run alone in the last bits; exact mode is bit-identical", async () => {
    // The measurement README's "Serving" section reports, on the reference models.
    // Three of the five keep the test short (bench/serving.ts measures all five): recurrent layers,
    // an int input with a mask, and several inputs and outputs.
    for (const name of ["stacked-lstm", "text-classifier", "encoder-decoder"]) {
      const config = REFERENCE_MODELS[name]!();
      const served = await pool.loadModel({ config, seed: 3 }, { name: `ref-${name}`, batching: { maxBatchSize: 8, maxDelayMicros: 100_000, exact: true } });
      const inputs = seededModelInputs(config, served.inputs, 4, 5);
      const measured = await measureBatchExactness((xs, o) => pool.predict(`ref-${name}`, xs, o), inputs);
      // Last bits only (summation order), not a wrong row: ULPs can be many next to zero, so bound the absolute error.
      expect(measured.maxAbsError, name).toBeLessThan(1e-5);
      // Exact mode: four concurrent callers merged into one message, each row run alone.
      const rows = await Promise.all(Array.from({ length: 4 }, (_, r) => served.predict(rowOf(inputs, r))));
      const singles: ServedPrediction[] = [];
      for (let r = 0; r < 4; r++) singles.push(await served.predict(rowOf(inputs, r)));
      rows.forEach((p, r) => p.names.forEach((n) => expect(bits(p.outputs[n]!), `${name} row ${r}`).toBe(bits(singles[r]!.outputs[n]!))));
      await served.unload();
    }
  });
});

describe("faults", () => {
  it("a worker SIGKILLed during a batch: retried once elsewhere, each caller settled once; the replacement loads the model on first use", async () => {
    const big = sequential({ name: "big", inputShape: [40, 8], layers: [layers.lstm({ units: 64, returnSequences: true }), layers.lstm({ units: 64 }), layers.dense({ units: 4 })] });
    await pool.loadModel({ config: big, seed: 9 }, { name: "big", batching: { maxBatchSize: 8, maxDelayMicros: 0 } });
    const input = (i: number) => ndarray("float32", [1, 40, 8], Float32Array.from({ length: 320 }, (_, k) => Math.cos(i + k)));
    const expected = await Promise.all(Array.from({ length: 32 }, (_, i) => pool.predict("big", input(i))));
    let settled = 0;
    const calls = Array.from({ length: 32 }, (_, i) => pool.predict("big", input(i)).finally(() => settled++));
    while (!pool.workers.some((w) => w.inFlight > 0)) await new Promise((r) => setImmediate(r));
    const retriedBefore = pool.stats.retried;
    process.kill(pool.workers.find((w) => w.inFlight > 0)!.info.pid, "SIGKILL");
    const results = await Promise.all(calls);
    expect(settled).toBe(32);
    expect(pool.stats.retried).toBeGreaterThan(retriedBefore);
    results.forEach((r, i) => expect(bits(r.outputs.dense!)).toBe(bits(expected[i]!.outputs.dense!)));
    expect(pool.stats.replaced).toBeGreaterThanOrEqual(1);
    // The replacement holds no model yet: it loads "big" lazily when a request reaches it.
    await pool.waitForWorkers(2, 120_000);
    const again = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.predict("big", input(i))));
    again.forEach((r, i) => expect(bits(r.outputs.dense!)).toBe(bits(expected[i]!.outputs.dense!)));
    const text = await pool.metrics();
    expect(metric(text, /^tfbridge_lazy_loads_total\{model="big",version="1"\}/)).toBeGreaterThanOrEqual(1);
    expect(metric(text, /^tfbridge_worker_restarts_total /)).toBe(pool.stats.replaced);
    expect(metric(text, /^tfbridge_requests_retried_total /)).toBe(pool.stats.retried);
  }, 180_000);

  it("a worker SIGKILLed while a model loads: the load succeeds on the others, the replacement loads it on first use", async () => {
    const late = sequential({ name: "late", inputShape: [20, 4], layers: [layers.lstm({ units: 48, returnSequences: true }), layers.lstm({ units: 48 }), layers.dense({ units: 2 })] });
    const loading = pool.loadModel({ config: late, seed: 4 }, { name: "late" });
    while (!pool.workers.some((w) => w.inFlight > 0)) await new Promise((r) => setImmediate(r));
    const victim = pool.workers.find((w) => w.inFlight > 0)!;
    process.kill(victim.info.pid, "SIGKILL");
    const served = await loading;
    expect(served.version).toBe(1);
    await pool.waitForWorkers(2, 120_000);
    const input = ndarray("float32", [1, 20, 4], new Float32Array(80).fill(0.3));
    const results = await Promise.all(Array.from({ length: 6 }, () => pool.predict("late", input)));
    results.slice(1).forEach((r) => expect(bits(r.outputs.dense!)).toBe(bits(results[0]!.outputs.dense!)));
    expect(pool.workers.map((w) => w.info.pid)).not.toContain(victim.info.pid);
  }, 180_000);
});

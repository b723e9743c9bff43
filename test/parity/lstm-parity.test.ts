import { describe, expect, it, vi } from "vitest";
import { type LstmSpec, TfjsUnsupportedModelError, lstmModel } from "../../src/index.js";
import { runModelParity } from "../../src/entry/parity.js";
import { seededModelInputs } from "../../src/parity/model-parity.js";
import { lstmSweepModels } from "../../src/parity/lstm-sweep.js";
import { runModelSweep } from "../../src/parity/model-sweep.js";
import { buildTfjsModel } from "../../src/tfjs/model.js";
import { loadTfjs } from "../../src/tfjs/runtime.js";
import { sharedBridge } from "../helpers.js";

const bridge = sharedBridge();

/** The spec as a one-layer model on the shared worker (seeded as the spec says), through the model parity. */
async function lstmParity(spec: LstmSpec, batch = 3) {
  const { config, weights, resolved } = lstmModel(spec);
  await using handle = await bridge().model(config, { weights, seed: resolved.seed });
  return await runModelParity(handle, { batch });
}

describe("an LSTM spec is a one-layer model on the model parity", () => {
  it.each<LstmSpec>([
    { units: 32, inputShape: [10, 1] },
    { units: 12, inputShape: [25, 6], returnSequences: true, returnState: true, goBackwards: true, activation: "relu" },
    { units: 5, inputShape: [8, 3], activation: "relu", recurrentActivation: "tanh", useBias: false, unitForgetBias: false },
  ])("passes, every output exact or explained by its cause, the JS CPU backend within 1e-5: %o", async (spec) => {
    const report = await lstmParity(spec);
    expect(report.passed).toBe(true);
    expect(report.layers.map((l) => l.name)).toEqual(spec.returnState ? ["lstm", "lstm:1", "lstm:2"] : ["lstm"]);
    for (const l of report.layers) {
      expect(["exact", "explained"]).toContain(l.verdict);
      if (l.verdict === "explained") expect(l.reproducedBy.length).toBeGreaterThan(0);
      expect(l.cpuWorstAbsError!).toBeLessThanOrEqual(1e-5);
    }
  });

  // The two known traps of the LSTM path, now causes of the model parity: TF.js runs Keras 3's
  // hard_sigmoid (relu6(x + 3) / 6) and per-gate sigmoids in the layer's op order; the Session's
  // Grappler folds the division into a multiplication, or hoists one Sigmoid over all four gates.
  it.each<[string, LstmSpec]>([
    ["hard_sigmoid", { units: 16, inputShape: [20, 4], recurrentActivation: "hard_sigmoid", returnSequences: true }],
    ["hoisted sigmoid", { units: 5, inputShape: [8, 3], activation: "sigmoid", recurrentActivation: "sigmoid", returnSequences: true }],
  ])("the %s trap is explained as Grappler's rewrite, reproduced with graph rewrites off", async (_, spec) => {
    const report = await lstmParity(spec);
    const [lstm] = report.layers;
    expect(lstm!.verdict).toBe("explained");
    expect(lstm!.cause).toBe("grappler");
    expect(lstm!.reproducedBy).toContain("unoptimized");
    expect(lstm!.reason).toMatch(/Grappler/);
    expect(report.passed).toBe(true);
  });

  it("a float64 spec runs in Python but has no TF.js twin: a typed refusal naming float64", async () => {
    const { config, resolved } = lstmModel({ units: 2, inputShape: [3, 1], dtype: "float64" });
    await using handle = await bridge().model(config, { seed: resolved.seed });
    const seeded = seededModelInputs(handle.config, handle.inputs, 2, 0);
    expect(seeded[0]!.dtype).toBe("float64"); // seeded inputs keep the model's float dtype
    expect((await handle.predict(seeded)).outputs.lstm!.dtype).toBe("float64");
    const refused = await runModelParity(handle).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TfjsUnsupportedModelError);
    expect((refused as Error).message).toMatch(/float64/);
  });

  it("the twin's predict releases every tensor it made", async () => {
    const tf = await loadTfjs();
    const { config, resolved } = lstmModel({ units: 3, inputShape: [4, 2], returnState: true });
    await using handle = await bridge().model(config, { seed: resolved.seed });
    const twin = await buildTfjsModel(handle.twinConfig(), await handle.weights());
    const x = seededModelInputs(handle.config, handle.inputs, 1, 0);
    await twin.predict(x, handle.layers); // warm-up: registers kernels, caches scalars
    const before = tf.memory().numTensors;
    await twin.predict(x, handle.layers);
    expect(tf.memory().numTensors).toBe(before);
    await twin.dispose();
  });
});

describe("the twin initializes nothing it will overwrite", () => {
  it("a large LSTM's twin is built without TF.js's Orthogonal initializer (and its slowness warning)", async () => {
    const { config, resolved } = lstmModel({ units: 64, inputShape: [5, 2] });
    await using handle = await bridge().model(config, { seed: resolved.seed });
    const warnings: unknown[] = [];
    const spy = vi.spyOn(console, "warn").mockImplementation((...args) => void warnings.push(args));
    try {
      await (await buildTfjsModel(handle.twinConfig(), await handle.weights())).dispose();
    } finally {
      spy.mockRestore();
    }
    expect(warnings.map(String).filter((w) => /Orthogonal/.test(w))).toEqual([]);
  });
});

describe("the LSTM sweep through the model sweep", () => {
  it("runs each spec with its own seeded initializers, not the model sweep's random weights (a linear or relu recurrence over 100 steps grew to 1e21 with those, and the JS CPU backend 'failed' 9 of 64)", async () => {
    const wanted = ["lstm-u64-t100x16-seq-relu/sigmoid", "lstm-u32-t50x16-nobias-linear/sigmoid"];
    const models = lstmSweepModels().filter((m) => wanted.includes(m.name));
    expect(models.map((m) => m.name).sort()).toEqual([...wanted].sort());
    const summary = await runModelSweep(bridge(), { models, references: false, count: 0 });
    expect(summary.failures).toEqual([]);
    expect(summary.models).toBe(2);
    expect(summary.cpuWorstAbsError.all).toBeLessThanOrEqual(1e-5);
  }, 300_000);
});

import { describe, expect, it } from "vitest";
import { input, layers, model, ndarray, sequential } from "../../src/index.js";
import { runModelParity } from "../../src/parity/model-parity.js";
import { randomWeights, runModelSweep } from "../../src/parity/model-sweep.js";
import { REFERENCE_MODELS } from "../../src/parity/reference-models.js";
import { sharedBridge } from "../helpers.js";

const bridge = sharedBridge();

describe("per-layer parity on the reference models", () => {
  it.each(Object.keys(REFERENCE_MODELS))("%s: tfjs-node bit-exact or explained on every layer, JS CPU within 1e-5", async (name) => {
    const config = REFERENCE_MODELS[name]!();
    await using probe = await bridge().model(config, { seed: 1 });
    await using handle = await bridge().model(config, { weights: randomWeights(probe.info, 1) });
    const report = await runModelParity(handle, { batch: 3 });
    expect(report.layers.map((l) => l.name)).toEqual(handle.layers.map((l) => l.name));
    for (const layer of report.layers) {
      expect(layer.pass, `${layer.name}: ${layer.reason}`).toBe(true);
      if (!layer.exact) expect(layer.reason).toMatch(/Grappler|inherits|erfc/);
    }
    expect(report.cpuWorstAbsError).toBeLessThanOrEqual(1e-5);
    for (const output of report.modelOutputs) expect(output.pass, `${output.name}: ${output.reason}`).toBe(true);
    expect(report.passed).toBe(true);
  });
});

describe("regressions found by the model sweep", () => {
  it("a mask on one branch does not reach a layer on another (TF.js's executors leak it)", async () => {
    const a = input({ shape: [4, 3], name: "masked" });
    const b = input({ shape: [2, 5], name: "plain" });
    const left = layers.lstm({ units: 3 }).apply(layers.simpleRnn({ units: 2, returnSequences: true }).apply(layers.masking().apply(a)));
    const right = layers.bidirectional({ layer: layers.simpleRnn({ units: 2 }), mergeMode: "ave" }).apply(layers.lstm({ units: 4, returnSequences: true }).apply(b));
    const config = model({ inputs: [a, b], outputs: layers.dense({ units: 2 }).apply(layers.concatenate().apply([left, right])) });
    await using handle = await bridge().model(config, { seed: 2 });
    // Rows 1 and 2 of `masked` end in masked steps; `plain` has no mask at all.
    const masked = ndarray("float32", [3, 4, 3], Float32Array.from({ length: 36 }, (_, i) => (i >= 12 && i % 12 >= 6 ? 0 : Math.sin(i + 1))));
    const plain = ndarray("float32", [3, 2, 5], Float32Array.from({ length: 30 }, (_, i) => Math.cos(i)));
    const report = await runModelParity(handle, { inputs: [masked, plain], skipCpu: true });
    const bidirectional = report.layers.find((l) => l.class === "Bidirectional")!;
    expect(bidirectional.worstUlpTfjsNode).toBe(0);
    expect(report.passed).toBe(true);
  });

  it("LayerNormalization and BatchNormalization are bit-exact on tfjs-node (TF.js's own order is up to 64 ULP off)", async () => {
    const config = sequential({ inputShape: [5, 6], layers: [layers.layerNormalization(), layers.batchNormalization(), layers.layerNormalization({ axis: [1, 2], center: false })] });
    await using probe = await bridge().model(config, { seed: 3 });
    await using handle = await bridge().model(config, { weights: randomWeights(probe.info, 3) });
    const report = await runModelParity(handle, { batch: 4, skipCpu: true });
    expect(report.layers.map((l) => [l.class, l.worstUlpTfjsNode])).toEqual([["LayerNormalization", 0], ["BatchNormalization", 0], ["LayerNormalization", 0]]);
  });
});

describe("the model sweep", () => {
  it("random architectures over the layer set pass, each layer exact or explained", async () => {
    const summary = await runModelSweep(bridge(), { count: 5, seed: 11, references: false });
    expect(summary.models).toBe(5);
    expect(summary.failures).toEqual([]);
    expect(summary.layerTypes.length).toBeGreaterThan(6);
    expect(summary.reports.every((r) => r.cpuWorstAbsError !== null)).toBe(true);
  }, 600_000);
});

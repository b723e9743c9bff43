import { describe, expect, it } from "vitest";
import { input, layers, model } from "../../src/index.js";
import { runModelParity } from "../../src/parity/model-parity.js";
import { sharedBridge } from "../helpers.js";

const bridge = sharedBridge();

/**
 * The activation, preprocessing and small merge layers of issue 20 in one model built with the
 * builder, run by the worker (Keras 3) and the twin: per-layer parity exact on tfjs-node or
 * explained by its cause, and the JS CPU backend within 1e-5.
 */
describe("an image front end of preprocessing, activation and merge layers", () => {
  // Measured here: Normalization 1 ULP from the Session (Grappler rewrites its division; the Session
  // without rewrites equals tfjs-node) and the layers after it inherit that; the Dense layers 1-2 ULP (Grappler, oneDNN).
  it("per layer: tfjs-node exact or explained, JS CPU within 1e-5", { timeout: 180_000 }, async () => {
    const image = input({ shape: [6, 7, 3], name: "image" });
    let x = layers.rescaling({ scale: 1 / 4, offset: -0.5 }).apply(image);
    x = layers.normalization({ mean: [0.1, -0.2, 0.3], variance: [0.5, 2, 1] }).apply(x);
    x = layers.randomFlip().apply(x);
    x = layers.randomRotation({ factor: 0.1 }).apply(x);
    x = layers.resizing({ height: 8, width: 9 }).apply(x);
    x = layers.centerCrop({ height: 6, width: 6 }).apply(x);
    x = layers.prelu({ sharedAxes: [1, 2] }).apply(x);
    const left = layers.reLU({ maxValue: 1.5, negativeSlope: 0.1, threshold: 0.2 }).apply(x);
    const right = layers.elu({ alpha: 0.5 }).apply(layers.leakyReLU().apply(x));
    const low = layers.minimum().apply([left, right]);
    const scores = layers.softmax({ axis: [1, 2] }).apply(layers.dense({ units: 4, activation: "hard_silu" }).apply(low));
    const a = layers.dense({ units: 5, activation: "mish" }).apply(layers.flatten().apply(scores));
    const b = layers.dense({ units: 5, activation: "leaky_relu" }).apply(layers.flatten().apply(layers.identity().apply(low)));
    const config = model({ inputs: image, outputs: layers.dot({ axes: 1, normalize: true }).apply([a, b]) });
    await using handle = await bridge().model(config, { seed: 7 });
    expect(handle.tfjs).toEqual({ supported: true });
    const report = await runModelParity(handle, { batch: 3 });
    for (const layer of report.layers) {
      expect(layer.pass, `${layer.name}: ${layer.reason}`).toBe(true);
      if (!layer.exact) expect(layer.reason, layer.name).toMatch(/^oneDNN: |Grappler|inherits/);
    }
    expect(report.cpuWorstAbsError).toBeLessThanOrEqual(1e-5);
    expect(report.passed).toBe(true);
  });

  it("an adapted Normalization's weights (mean, variance and its int64 count) reach the twin", { timeout: 120_000 }, async () => {
    const features = input({ shape: [4], name: "features" });
    const config = model({ inputs: features, outputs: layers.normalization({ name: "norm" }).apply(features) });
    const mean = new Float32Array([1, -2, 0.5, 3]);
    const variance = new Float32Array([4, 0.25, 1, 9]);
    await using handle = await bridge().model(config, {
      weights: { norm: [{ dtype: "float32", shape: [4], data: mean }, { dtype: "float32", shape: [4], data: variance }, { dtype: "int64", shape: [], data: BigInt64Array.of(11n) }] as never },
    });
    const report = await runModelParity(handle, { batch: 2 });
    const norm = report.layers.find((l) => l.name === "norm")!;
    expect(norm.verdict, norm.reason ?? undefined).toMatch(/^(exact|explained)$/);
    expect(norm.worstUlpTfjsNode).toBeLessThanOrEqual(1);
    expect(report.passed).toBe(true);
  });
});

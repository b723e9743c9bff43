import { describe, expect, it } from "vitest";
import { loadTfjs, tfjsInfo, withBackend } from "../../src/tfjs/runtime.js";
import { TfjsUnsupportedError, runTfjsLstm } from "../../src/tfjs/lstm.js";
import { zeros } from "../../src/index.js";
import { resolveLstmSpec } from "../../src/lstm/spec.js";
import { sharedBridge } from "../helpers.js";

const bridge = sharedBridge();

describe("tfjs-node, built offline against the venv's TensorFlow", () => {
  it("runs on the native tensorflow backend, not a silent fallback", async () => {
    const tf = await loadTfjs();
    expect(tf.getBackend()).toBe("tensorflow");
    const info = await tfjsInfo();
    expect(info.backend).toBe("tensorflow");
    expect(info.backends).toEqual(expect.arrayContaining(["tensorflow", "cpu"]));
  });

  it("loaded the same TensorFlow version as the Python worker", async () => {
    expect((await tfjsInfo()).tensorflow).toBe(bridge().info.tensorflow);
  });

  it("offers the pure-JS CPU backend as a second runtime and restores the native one after", async () => {
    const tf = await loadTfjs();
    const seen = await withBackend(tf, "cpu", async () => tf.getBackend());
    expect(seen).toBe("cpu");
    expect(tf.getBackend()).toBe("tensorflow");
  });
});

describe("runTfjsLstm", () => {
  it("refuses a float64 spec instead of computing it in float32", async () => {
    const spec = resolveLstmSpec({ units: 2, inputShape: [1, 1], dtype: "float64" });
    const w = { kernel: zeros("float64", [1, 8]), recurrentKernel: zeros("float64", [2, 8]), bias: zeros("float64", [8]) };
    await expect(runTfjsLstm(spec, w, zeros("float32", [1, 1, 1]))).rejects.toThrow(TfjsUnsupportedError);
  });

  it("releases every tensor it made", async () => {
    const tf = await loadTfjs();
    const spec = resolveLstmSpec({ units: 3, inputShape: [4, 2], returnState: true });
    const w = { kernel: zeros("float32", [2, 12]), recurrentKernel: zeros("float32", [3, 12]), bias: zeros("float32", [12]) };
    await runTfjsLstm(spec, w, zeros("float32", [1, 4, 2])); // warm-up: registers kernels, caches scalars
    const before = tf.memory().numTensors;
    await runTfjsLstm(spec, w, zeros("float32", [1, 4, 2]));
    expect(tf.memory().numTensors).toBe(before);
  });
});

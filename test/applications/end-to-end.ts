import { rmSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Bridge } from "../../src/index.js";
import { convertModel, convertModelToOnnx } from "../../src/index.js";
import { OnnxModel } from "../../src/entry/parity.js";
import { runModelParity } from "../../src/entry/parity.js";
import { loadTfjsModel } from "../../src/tfjs/model.js";
import { type KerasReference, maxAbsDiff } from "../models/keras-reference.js";

const ATOL = 1e-5;

/**
 * A user's model end to end: the worker's predict equals Keras's, `parity` passes with every layer
 * exact or explained, `convert` proves its files, and stock TF.js (tf.loadLayersModel with
 * registerKerasLayers) agrees with Keras on tfjs-node and the JS CPU backend; `convert --to onnx`
 * proves every layer on onnxruntime-node and -web, and its model.onnx agrees with Keras on both.
 */
export async function expectEndToEnd(bridge: Bridge, name: string, ref: KerasReference, dir: string): Promise<void> {
  await using handle = await bridge.loadModel(ref.path);
  const { outputs, names } = await handle.predict(ref.inputs);
  expect(maxAbsDiff(outputs[names[0]!]!, ref.expected)).toBeLessThanOrEqual(ATOL);
  expect(handle.tfjs).toEqual({ supported: true });
  const started = performance.now();
  const report = await runModelParity(handle, { inputs: ref.inputs });
  expect(report.layers.filter((l) => !l.pass).map((l) => `${l.name}: ${l.reason}`)).toEqual([]);
  for (const layer of report.layers) expect(["exact", "explained"], `${layer.name}: ${layer.reason}`).toContain(layer.verdict);
  expect(report.passed).toBe(true);
  const exact = report.layers.filter((l) => l.verdict === "exact").length;
  console.log(`${name}: ${report.layers.length} layer outputs, ${exact} exact on tfjs-node, the rest explained; JS CPU worst abs ${report.cpuWorstAbsError?.toExponential(2)}; parity ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const out = join(dir, `${name}-web`);
  const converted = await convertModel(ref.path, out, { bridge });
  expect(converted.ok).toBe(true);
  for (const backend of ["tensorflow", "cpu"] as const) {
    const twin = await loadTfjsModel(join(out, "model.json"), { backend });
    try {
      const [stock] = await twin.predictStock(ref.inputs);
      expect(maxAbsDiff(stock!, ref.expected), `${name} on ${backend}`).toBeLessThanOrEqual(ATOL);
    } finally {
      await twin.dispose();
    }
  }
  rmSync(out, { recursive: true, force: true });

  const onnxOut = join(dir, `${name}-onnx`);
  const onnx = await convertModelToOnnx(ref.path, onnxOut, { bridge });
  expect(onnx.report.layers.filter((l) => !l.pass).map((l) => l.name)).toEqual([]);
  expect(onnx.ok).toBe(true);
  const feeds = Object.fromEntries(handle.inputs.map((spec, i) => [spec.name, ref.inputs[i]!]));
  for (const runtime of ["onnxruntime-node", "onnxruntime-web"] as const) {
    const model = await OnnxModel.load(runtime, join(onnxOut, "model.onnx"));
    try {
      const [output] = Object.values(await model.run(feeds));
      expect(maxAbsDiff(output!, ref.expected), `${name} on ${runtime}`).toBeLessThanOrEqual(ATOL);
    } finally {
      await model.release();
    }
  }
  console.log(`${name}: ONNX ${onnx.report.layers.length} layer outputs within the bound; worst abs ${JSON.stringify(onnx.report.worstAbsError)}`);
  rmSync(onnxOut, { recursive: true, force: true });
}

import { describe, expect, it } from "vitest";
import { GOLDEN_CASES, type GoldenCase } from "./fixture.js";
import type { KerasLayerConfig, KerasModelConfig, KerasTensorRef } from "../../src/index.js";
import { compareArrays } from "../../src/parity/compare.js";
import { type NDArray, ndarray } from "../../src/wire/ndarray.js";
import { sharedBridge } from "../helpers.js";

// The same cases the TF.js half replays (keras-layer-tests.test.ts), here through the Python worker.
const bridge = sharedBridge();

/** A value no input of Keras's tests holds: masked steps are set to it and a Masking layer masks them. */
const MASKED = -7777;

const ref = (layer: string, index = 0): KerasTensorRef => ({ class_name: "__keras_tensor__", config: { shape: [], dtype: "float32", keras_history: [layer, 0, index] } });
const inputLayer = (name: string, shape: number[]): KerasLayerConfig => ({
  class_name: "InputLayer", config: { name, batch_shape: [null, ...shape.slice(1)], dtype: "float32" }, name, inbound_nodes: [],
});

/**
 * The case as a functional model: its layer on a `sequences` input, with `initial_state` inputs as
 * Keras's test passed them, and a call-time mask expressed the way a model carries one (Masking).
 */
function caseModel(c: GoldenCase): { config: KerasModelConfig; inputs: NDArray[] } {
  const seq = c.inputs.sequences;
  let data = Float32Array.from(seq.data as number[]);
  const layers: KerasLayerConfig[] = [inputLayer("sequences", seq.shape)];
  let source = "sequences";
  if (c.inputs.mask) {
    const features = seq.shape[2]!;
    const mask = c.inputs.mask.data as boolean[];
    data = data.map((v, i) => (mask[Math.floor(i / features)] === false ? MASKED : v));
    layers.push({ class_name: "Masking", config: { name: "mask", mask_value: MASKED }, name: "mask", inbound_nodes: [{ args: [ref("sequences")], kwargs: {} }] });
    source = "mask";
  }
  const states = (c.inputs.initial_state ?? []).map((s, i) => ({ name: `state_${i}`, array: s }));
  states.forEach((s) => layers.push(inputLayer(s.name, s.array.shape)));
  const kwargs = states.length ? { initial_state: states.map((s) => ref(s.name)) } : {};
  layers.push({ class_name: c.class_name, config: { ...c.config, name: "golden" }, name: "golden", inbound_nodes: [{ args: [ref(source)], kwargs }] });
  const config: KerasModelConfig = {
    class_name: "Functional",
    config: { name: "golden_case", layers, input_layers: [["sequences", 0, 0], ...states.map((s): [string, number, number] => [s.name, 0, 0])], output_layers: [["golden", 0, c.expected.output]] },
  };
  const inputs = [ndarray("float32", seq.shape, data), ...states.map((s) => ndarray("float32", s.array.shape, Float32Array.from(s.array.data as number[])))];
  return { config, inputs };
}

function weightsOf(c: GoldenCase): Record<string, NDArray<"float32">[]> {
  return {
    golden: c.weights.map((w) => {
      const n = w.shape.reduce((a, b) => a * b, 1);
      return ndarray("float32", w.shape, w.fill !== undefined ? new Float32Array(n).fill(w.fill) : Float32Array.from(w.data!)) as NDArray<"float32">;
    }),
  };
}

function checked(out: NDArray, c: GoldenCase): NDArray<"float32"> {
  if (c.expected.batch_index === undefined) return out as NDArray<"float32">;
  const row = out.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = (out.data as Float32Array).subarray(c.expected.batch_index * row, (c.expected.batch_index + 1) * row);
  return ndarray("float32", out.shape.slice(1), data) as NDArray<"float32">;
}

describe("Keras's own RNN golden values through the bridge, in all three modes", () => {
  it.each(GOLDEN_CASES.map((c) => [c.id, c] as const))("%s", async (_, c) => {
    const { config, inputs } = caseModel(c);
    await using handle = await bridge().model(config, { weights: weightsOf(c) });
    const expected = ndarray("float32", c.expected.shape, Float32Array.from(c.expected.data as number[]));
    const results: NDArray[] = [];
    for (const mode of ["session", "eager", "function"] as const) {
      const { outputs, names } = await handle.predict(inputs, { mode });
      const got = checked(outputs[names[0]!]!, c);
      const comparison = compareArrays(got, expected, c.tolerance);
      expect(comparison.pass, `${mode}: max abs ${comparison.maxAbsError} (Keras's tolerance ${JSON.stringify(c.tolerance)})`).toBe(true);
      results.push(got);
    }
    expect(results[1]!.data).toEqual(results[0]!.data);
    expect(results[2]!.data).toEqual(results[0]!.data);
  });
});

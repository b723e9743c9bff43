import { readFileSync } from "node:fs";
import type { KerasLayerConfig, KerasModelConfig, KerasTensorRef } from "../../src/models/config.js";
import { type NDArray, ndarray } from "../../src/wire/ndarray.js";
import type { Arr } from "./fixture.js";

/** One assertion of Keras's own attention layer tests, as extract_attention_goldens.py recorded it. */
export interface AttentionGoldenCase {
  id: string;
  source: { repository: string; version: string; file: string; test: string; line: number };
  class_name: "Attention" | "AdditiveAttention" | "MultiHeadAttention";
  config: Record<string, unknown>;
  weights: { name: string; shape: number[]; fill?: number; data?: number[] }[];
  inputs: { query: Arr; value: Arr; key: Arr | null; mask: (Arr | null)[] | null };
  call: { use_causal_mask: boolean; return_attention_scores: boolean };
  expected: Arr & { output: number };
  tolerance: { atol: number; rtol: number };
}

/** Keras's own attention tests' cases and expected values (keras-team/keras 3.15.1), for both halves. */
export const ATTENTION_GOLDEN_CASES: readonly AttentionGoldenCase[] = (
  JSON.parse(readFileSync(new URL("keras-attention-tests.json", import.meta.url), "utf8")) as { cases: AttentionGoldenCase[] }
).cases;

/** A value no input of Keras's tests holds: masked steps are set to it and a Masking layer masks them. */
const MASKED = -7777;

const ref = (layer: string): KerasTensorRef => ({ class_name: "__keras_tensor__", config: { shape: [], dtype: "float32", keras_history: [layer, 0, 0] } });

/**
 * The case as a functional model: its layer called on inputs `query`, `value` (and `key`) with the
 * test's flags; a call-time mask ([query mask, value mask]) expressed the way a model carries one, by
 * a Masking layer over steps set to a value no input holds. Masking zeroes those steps, which changes
 * nothing Keras's tests check: a masked value step gets weight exp(-1e9) = 0, a masked query row is
 * zeroed and its scores depend only on the value mask there. `dtype` replaces the layer's dtype
 * policy (Keras's MultiHeadAttention test computes in float16; TF.js computes in float32).
 */
export function attentionCaseModel(c: AttentionGoldenCase, dtype?: string): { config: KerasModelConfig; inputs: NDArray[]; output: string } {
  const layers: KerasLayerConfig[] = [];
  const inputs: NDArray[] = [];
  const roles = (["query", "value", "key"] as const).filter((r) => c.inputs[r]);
  const tensors = roles.map((role, i) => {
    const a = c.inputs[role]!;
    const mask = c.inputs.mask?.[i];
    const features = a.shape[2]!;
    // The mask is [batch, steps]: element j of [batch, steps, features] is in step floor(j / features) of it.
    const data = Float32Array.from(a.data as number[]).map((v, j) => (mask && (mask.data as boolean[])[Math.floor(j / features)] === false ? MASKED : v));
    layers.push({ class_name: "InputLayer", config: { name: role, batch_shape: [null, ...a.shape.slice(1)], dtype: "float32" }, name: role, inbound_nodes: [] });
    inputs.push(ndarray("float32", a.shape, data));
    if (!mask) return role;
    const name = `${role}_mask`;
    layers.push({ class_name: "Masking", config: { name, mask_value: MASKED }, name, inbound_nodes: [{ args: [ref(role)], kwargs: {} }] });
    return name;
  });
  const config = { ...c.config, name: "golden", ...(dtype ? { dtype } : {}) };
  const [query, value, key] = tensors;
  const node =
    c.class_name === "MultiHeadAttention"
      ? { args: [ref(query!), ref(value!)], kwargs: { ...(key ? { key: ref(key) } : {}), ...c.call } }
      : { args: [tensors.map(ref)], kwargs: { ...c.call } };
  layers.push({ class_name: c.class_name, config, name: "golden", inbound_nodes: [node] });
  const model: KerasModelConfig = {
    class_name: "Functional",
    config: { name: "golden_case", layers, input_layers: roles.map((r): [string, number, number] => [r, 0, 0]), output_layers: [["golden", 0, c.expected.output]] },
  };
  return { config: model, inputs, output: c.expected.output ? `golden:${c.expected.output}` : "golden" };
}

/** The case's weights, per layer, in Keras's order. */
export function attentionWeights(c: AttentionGoldenCase): Record<string, NDArray<"float32">[]> {
  return {
    golden: c.weights.map((w) => {
      const n = w.shape.reduce((a, b) => a * b, 1);
      return ndarray("float32", w.shape, w.fill !== undefined ? new Float32Array(n).fill(w.fill) : Float32Array.from(w.data!)) as NDArray<"float32">;
    }),
  };
}

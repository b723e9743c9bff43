import { beforeAll, describe, expect, it } from "vitest";
import { checkModelConfig } from "../../src/models/schema.js";
import { compareArrays } from "../../src/parity/compare.js";
import { buildTfjsModel } from "../../src/tfjs/model.js";
import { loadTfjs } from "../../src/tfjs/runtime.js";
import { type AttentionCase, type AttentionReference, attentionReference } from "./attention-reference.js";

/**
 * The attention classes on TF.js's WASM backend (the browser's fast CPU path), in Node. TF.js 4.22's
 * WASM backend has no Einsum kernel ("Kernel 'Einsum' not registered"), so there the einsums run as
 * transposes, reshapes and a batched matMul: the same contraction, within the JS CPU backend's bound.
 */
const CASES: AttentionCase[] = [
  { id: "self-attention", class_name: "MultiHeadAttention", config: { num_heads: 2, key_dim: 3 }, inputs: [{ shape: [5, 8] }], call: { query: 0, value: 0 }, batch: 2, seed: 1 },
  { id: "2 attention axes, scores", class_name: "MultiHeadAttention", config: { num_heads: 2, key_dim: 3, attention_axes: [1, 2] }, inputs: [{ shape: [3, 4, 5] }], call: { query: 0, value: 0, return_attention_scores: true }, batch: 2, seed: 10 },
  { id: "masked, causal, cross", class_name: "MultiHeadAttention", config: { num_heads: 2, key_dim: 3 }, inputs: [{ shape: [5], vocab: 11, dim: 6, padding: [1, 3] }, { shape: [5], vocab: 11, dim: 6, padding: [0, 2] }], call: { query: 0, value: 1, use_causal_mask: true }, batch: 2, seed: 13 },
  { id: "Attention concat, masked", class_name: "Attention", config: { score_mode: "concat", use_scale: true }, inputs: [{ shape: [5], vocab: 11, dim: 6, padding: [1, 0] }, { shape: [6], vocab: 11, dim: 6, padding: [0, 3] }], call: { inputs: [0, 1] }, batch: 2, seed: 50 },
  { id: "AdditiveAttention causal", class_name: "AdditiveAttention", config: {}, inputs: [{ shape: [5, 4] }, { shape: [5, 4] }], call: { inputs: [0, 1], use_causal_mask: true, return_attention_scores: true }, batch: 2, seed: 62 },
];

let refs: Map<string, AttentionReference>;

beforeAll(async () => {
  await loadTfjs();
  await import("@tensorflow/tfjs-backend-wasm");
  refs = attentionReference(CASES);
}, 300_000);

describe("attention layers on the WASM backend", () => {
  for (const c of CASES) {
    it(`${c.id}: within 1e-6 of Keras`, async () => {
      const ref = refs.get(c.id)!;
      const twin = await buildTfjsModel(checkModelConfig(ref.config), ref.weights, { backend: "wasm" as never });
      const outputs = await twin.predict(ref.inputs);
      await twin.dispose();
      expect(outputs.length).toBe(ref.session.length);
      outputs.forEach((out, i) => {
        const cmp = compareArrays(out, ref.session[i]!, { atol: 1e-6, rtol: 0 });
        expect(cmp.shape.actual).toEqual(cmp.shape.expected);
        expect(cmp.pass, `output ${i}: ${cmp.maxAbsError}`).toBe(true);
      });
    });
  }
});

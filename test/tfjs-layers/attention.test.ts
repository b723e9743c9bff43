import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LayerOutputInfo } from "../../src/models/handle.js";
import { checkModelConfig } from "../../src/models/schema.js";
import { compareArrays } from "../../src/parity/compare.js";
import { TfjsOnednnOff } from "../../src/parity/tfjs-onednn-off.js";
import { buildTfjsModel } from "../../src/tfjs/model.js";
import type { NDArray } from "../../src/wire/ndarray.js";
import { type AttentionCase, type AttentionReference, attentionReference } from "./attention-reference.js";

const mha = (id: string, config: Record<string, unknown>, inputs: AttentionCase["inputs"], call: AttentionCase["call"], seed: number): AttentionCase => ({
  id,
  class_name: "MultiHeadAttention",
  config,
  inputs,
  call,
  batch: 2,
  seed,
});
const seq = (t: number, d: number) => ({ shape: [t, d] });
const ids = (t: number, padding: number[]) => ({ shape: [t], vocab: 11, dim: 6, padding });

const CASES: AttentionCase[] = [
  mha("self-attention", { num_heads: 2, key_dim: 3 }, [seq(5, 8)], { query: 0, value: 0 }, 1),
  mha("cross-attention with a key", { num_heads: 3, key_dim: 4, value_dim: 2 }, [seq(5, 8), seq(7, 6), seq(7, 4)], { query: 0, value: 1, key: 2 }, 2),
  mha("output_shape", { num_heads: 2, key_dim: 4, output_shape: [3, 2] }, [seq(4, 6), seq(6, 6)], { query: 0, value: 1 }, 3),
  mha("no bias", { num_heads: 2, key_dim: 4, use_bias: false }, [seq(4, 6)], { query: 0, value: 0 }, 4),
  mha("causal", { num_heads: 2, key_dim: 4 }, [seq(6, 8)], { query: 0, value: 0, use_causal_mask: true }, 5),
  mha("causal, scores returned", { num_heads: 2, key_dim: 4 }, [seq(6, 8)], { query: 0, value: 0, use_causal_mask: true, return_attention_scores: true }, 6),
  mha("scores returned", { num_heads: 3, key_dim: 2 }, [seq(5, 8), seq(4, 8)], { query: 0, value: 1, return_attention_scores: true }, 7),
  mha("dropout above 0 (Keras's explicit path)", { num_heads: 2, key_dim: 4, dropout: 0.3 }, [seq(5, 8)], { query: 0, value: 0 }, 8),
  mha("attention_axes over 2 axes", { num_heads: 2, key_dim: 3, attention_axes: [1, 2] }, [{ shape: [3, 4, 5] }], { query: 0, value: 0 }, 9),
  mha("attention_axes over 2 axes, scores returned", { num_heads: 2, key_dim: 3, attention_axes: [1, 2] }, [{ shape: [3, 4, 5] }], { query: 0, value: 0, return_attention_scores: true }, 10),
  mha("attention over 1 of 2 axes", { num_heads: 2, key_dim: 3, attention_axes: [2] }, [{ shape: [3, 4, 5] }], { query: 0, value: 0 }, 11),
  mha("padding masks from Embedding(mask_zero)", { num_heads: 2, key_dim: 3 }, [ids(6, [2, 0])], { query: 0, value: 0 }, 12),
  mha("padding masks, cross-attention, causal", { num_heads: 2, key_dim: 3 }, [ids(5, [1, 3]), ids(5, [0, 2])], { query: 0, value: 1, use_causal_mask: true }, 13),
  mha("padding masks, scores returned", { num_heads: 2, key_dim: 3 }, [ids(6, [2, 0])], { query: 0, value: 0, return_attention_scores: true }, 14),
  mha("attention_mask input", { num_heads: 2, key_dim: 3 }, [seq(5, 8), seq(6, 8), { shape: [5, 6], dtype: "int32" }], { query: 0, value: 1, attention_mask: 2 }, 15),
  mha("attention_mask with causal", { num_heads: 2, key_dim: 3 }, [seq(5, 8), { shape: [5, 5], dtype: "int32" }], { query: 0, value: 0, attention_mask: 1, use_causal_mask: true }, 16),
  mha("sliding_window", { num_heads: 2, key_dim: 3, sliding_window: 2 }, [seq(6, 8)], { query: 0, value: 0 }, 17),
  mha("use_gate", { num_heads: 2, key_dim: 3, use_gate: true }, [seq(5, 8)], { query: 0, value: 0 }, 18),
  ...(["dot", "concat"] as const).flatMap((score_mode, i) =>
    [false, true].flatMap((use_scale, j) => [
      { id: `Attention ${score_mode} use_scale=${use_scale}`, class_name: "Attention" as const, config: { score_mode, use_scale }, inputs: [seq(5, 4), seq(6, 4)], call: { inputs: [0, 1] }, batch: 2, seed: 30 + i * 2 + j },
      { id: `Attention ${score_mode} use_scale=${use_scale}, key, causal`, class_name: "Attention" as const, config: { score_mode, use_scale }, inputs: [seq(5, 4), seq(5, 3), seq(5, 4)], call: { inputs: [0, 1, 2], use_causal_mask: true }, batch: 2, seed: 40 + i * 2 + j },
    ]),
  ),
  { id: "Attention masked, scores returned", class_name: "Attention", config: {}, inputs: [ids(5, [1, 0]), ids(6, [0, 3])], call: { inputs: [0, 1], return_attention_scores: true }, batch: 2, seed: 50 },
  { id: "Attention masked, causal", class_name: "Attention", config: { use_scale: true }, inputs: [ids(6, [1, 0]), ids(6, [0, 3])], call: { inputs: [0, 1], use_causal_mask: true }, batch: 2, seed: 51 },
  { id: "AdditiveAttention", class_name: "AdditiveAttention", config: {}, inputs: [seq(5, 4), seq(6, 4)], call: { inputs: [0, 1] }, batch: 2, seed: 60 },
  { id: "AdditiveAttention no scale, key", class_name: "AdditiveAttention", config: { use_scale: false }, inputs: [seq(5, 4), seq(6, 3), seq(6, 4)], call: { inputs: [0, 1, 2] }, batch: 2, seed: 61 },
  { id: "AdditiveAttention masked, causal, scores", class_name: "AdditiveAttention", config: {}, inputs: [ids(6, [2, 0]), ids(6, [0, 1])], call: { inputs: [0, 1], use_causal_mask: true, return_attention_scores: true }, batch: 2, seed: 62 },
];

/**
 * Stated bounds, measured on an AVX-512 EPYC with oneDNN on (TF's default on x86): tfjs-node up to
 * 4.8e-7 from Keras (256 ULP of a near-zero output) — oneDNN's matmul and softmax kernels, which Keras
 * runs and tfjs-node's eager calls do not; TF.js's pure-JS `cpu` backend (its own matmul, einsum,
 * exp) up to 4.8e-7. Outputs here are O(1).
 */
const NODE_BOUND = 1e-6;
const CPU_BOUND = 1e-6;

let refs: Map<string, AttentionReference>;
let plain: Map<string, AttentionReference>;
const onednnOff = new TfjsOnednnOff();

beforeAll(() => {
  refs = attentionReference(CASES);
  plain = attentionReference(CASES, { TF_ENABLE_ONEDNN_OPTS: "0" });
}, 600_000);

afterAll(() => onednnOff.close());

/** The model's outputs as the worker names them (the layer's `name`, `name:1` for the scores). */
function outputInfos(ref: AttentionReference): LayerOutputInfo[] {
  const layer = ref.config.config.layers.find((l) => l.class_name.endsWith("Attention"))!;
  return ref.eager.map((a, i) => ({ name: i ? `${layer.config.name}:${i}` : String(layer.config.name), layer: String(layer.config.name), class: layer.class_name, shape: [...a.shape], dtype: "float32" }));
}

describe("attention layers against real Keras 3, same weights, through the model twin", () => {
  for (const c of CASES) {
    it(`${c.id}: bit-identical in tfjs-node with oneDNN off on both sides, within the bounds with it on`, async () => {
      const ref = refs.get(c.id)!;
      const config = checkModelConfig(ref.config);
      for (const [backend, bound] of [["tensorflow", NODE_BOUND], ["cpu", CPU_BOUND]] as const) {
        const twin = await buildTfjsModel(config, ref.weights, { backend });
        const outputs = await twin.predict(ref.inputs);
        await twin.dispose();
        expect(outputs.length).toBe(ref.session.length);
        outputs.forEach((out, i) => {
          const cmp = compareArrays(out, ref.session[i]!, { atol: bound, rtol: 0 });
          expect(cmp.shape.actual).toEqual(cmp.shape.expected);
          expect(cmp.pass, `${backend} output ${i}: ${cmp.maxAbsError}`).toBe(true);
        });
      }
      // With TF's own kernels on both sides (oneDNN off) the op order is Keras's exactly: 0 ULP.
      const off = plain.get(c.id)!;
      const outputs = await onednnOff.run({ config: checkModelConfig(off.config), weights: off.weights, inputs: off.inputs, layers: outputInfos(off) });
      outputs.forEach((out, i) => {
        for (const expected of [off.session[i]!, off.eager[i]!]) expect(compareArrays(out as NDArray<"float32">, expected, { atol: 0, rtol: 0 }).maxUlp).toBe(0);
      });
    });
  }
});

import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

/**
 * The Keras mask of each of an attention layer's `inputs` inputs. tfbridge's graph walk passes a
 * list (one per input); TF.js's own executor passes the first input's mask as one tensor (the
 * converter refuses a model that needs the others there, see tfjs/stock-executor.ts).
 */
export function attentionMasks(kwargs: Kwargs, inputs: number): (Tensor | null)[] {
  const mask = kwargs["mask"] as Tensor | (Tensor | null | undefined)[] | null | undefined;
  if (Array.isArray(mask)) return Array.from({ length: inputs }, (_, i) => mask[i] ?? null);
  return Array.from({ length: inputs }, (_, i) => (i === 0 ? (mask ?? null) : null));
}

/**
 * The causal mask of Keras's attention layers, `[1, T, S]`, true where the row index ≥ the column
 * index: `greater_equal(cumsum(ones, -2), cumsum(ones, -1))` (multi_head_attention.py
 * `_compute_causal_mask`, attention.py `_calculate_score_mask`). A boolean, so any equivalent
 * construction gives the same numbers.
 */
export function causalMask(tf: TfModule, t: number, s: number): Tensor {
  const rows = tf.reshape(tf.range(0, t, 1, "int32"), [1, t, 1]);
  const cols = tf.reshape(tf.range(0, s, 1, "int32"), [1, 1, s]);
  return tf.greaterEqual(rows, cols);
}

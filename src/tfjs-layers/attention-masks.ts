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

/**
 * An attention layer's inputs by role (query, value, key, attention_mask) from its distinct inputs:
 * `callInputs[r]` is role r's input (tfbridge's topology gives a layer each tensor once, see
 * tfjs/call-arguments.ts); without it the inputs are the roles. A lone input or shape is a list of one.
 */
export function byRole<T>(items: readonly T[], callInputs: readonly number[] | null): T[] {
  return callInputs ? callInputs.map((i) => items[i]!) : [...items];
}

/** A layer's input shape(s) as a list: TF.js hands a one-input layer its shape bare. */
export function shapeList<S extends readonly (number | null)[]>(inputShape: S | S[]): S[] {
  return Array.isArray(inputShape[0]) || inputShape.length === 0 ? (inputShape as S[]) : [inputShape as S];
}

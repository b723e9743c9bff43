/**
 * The names our TF.js classes are registered under, and which Keras 3 configs need them. Plain data:
 * a Keras-3-config → TF.js translator can stay table-driven by asking {@link kerasCustomClass} and
 * {@link kerasCustomActivation} before falling back to TF.js's own class of the same name.
 *
 * No name has an underscore: TF.js camel-cases every string value of a snake_case model JSON
 * (serialization_utils.convertPythonicToTs), so `keras3_hard_sigmoid` would arrive renamed.
 */

/** Keras 3's hard_sigmoid, relu6(x + 3) / 6 (TF.js's `hardSigmoid` is Keras 2's clip(0.2x + 0.5, 0, 1)). */
export const KERAS3_HARD_SIGMOID = "keras3HardSigmoid";
/** Keras 3's GRU layer: `reset_after` (default true) and Keras's masking rules. */
export const TFBRIDGE_GRU = "TfbridgeGRU";
/** The cell inside {@link TFBRIDGE_GRU}, bias `[2, 3u]` when `reset_after`. */
export const TFBRIDGE_GRU_CELL = "TfbridgeGRUCell";
/** Keras 3's LSTM: TF.js's LSTM cell in Keras's time loop (Keras's masking rules). */
export const TFBRIDGE_LSTM = "TfbridgeLSTM";
/** Keras 3's SimpleRNN: TF.js's SimpleRNN cell in Keras's time loop (Keras's masking rules). */
export const TFBRIDGE_SIMPLE_RNN = "TfbridgeSimpleRNN";
/** Keras 3's Conv1D with `padding: "causal"` besides `valid` and `same`. */
export const TFBRIDGE_CONV1D = "TfbridgeConv1D";

/** Keras 3's LayerNormalization: TF.js's weights and config, Keras's ops in Keras's order. */
export const TFBRIDGE_LAYER_NORMALIZATION = "TfbridgeLayerNormalization";
/** Keras 3's BatchNormalization at inference: TF.js's weights and config, tf.nn.batch_normalization's ops. */
export const TFBRIDGE_BATCH_NORMALIZATION = "TfbridgeBatchNormalization";

/** Keras 3's GlobalAveragePooling1D: averages only unmasked steps under a mask. */
export const TFBRIDGE_GLOBAL_AVERAGE_POOLING_1D = "TfbridgeGlobalAveragePooling1D";

/** Keras 3's MultiHeadAttention (TF.js has none). */
export const TFBRIDGE_MULTI_HEAD_ATTENTION = "TfbridgeMultiHeadAttention";
/** Keras 3's Attention (TF.js has none). */
export const TFBRIDGE_ATTENTION = "TfbridgeAttention";
/** Keras 3's AdditiveAttention (TF.js has none). */
export const TFBRIDGE_ADDITIVE_ATTENTION = "TfbridgeAdditiveAttention";
/** Keras classes built by tfbridge's attention classes, which take every input's mask. */
export const ATTENTION_CLASSES: Readonly<Record<string, string>> = {
  MultiHeadAttention: TFBRIDGE_MULTI_HEAD_ATTENTION,
  Attention: TFBRIDGE_ATTENTION,
  AdditiveAttention: TFBRIDGE_ADDITIVE_ATTENTION,
};

/** The start of every class name tfbridge registers (the hard_sigmoid activation aside). */
export const TFBRIDGE_CLASS_PREFIX = "Tfbridge";
/** Keras 3's merge layers (Add, Subtract, Multiply, Average, Maximum, Concatenate) with Keras's mask rules: `TfbridgeAdd`, … */
export const TFBRIDGE_MERGE_PREFIX = TFBRIDGE_CLASS_PREFIX;
/** The Keras 3 merge layers tfbridge defines (with Keras 3's mask rules). */
export const MERGE_CLASSES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Concatenate"] as const;
/** The merges whose values, not only their output mask, depend on every input's mask. */
export const MASKED_VALUE_MERGES: readonly (typeof MERGE_CLASSES)[number][] = ["Maximum", "Multiply"];

/** A Keras 3 layer config as `model.to_json()` writes it: snake_case keys. */
export type KerasLayerConfig = Readonly<Record<string, unknown>>;

/**
 * The TF.js class name to build a Keras 3 layer with, when TF.js's own class of that name would
 * compute something else or refuse the config; `null` when TF.js's own class is right.
 *
 * - `GRU` → {@link TFBRIDGE_GRU}: TF.js's GRUCell throws on `reset_after` true (Keras's default), and
 *   TF.js's RNN loop handles masks unlike Keras (see recurrence.ts), so even `reset_after` false
 *   goes through our class.
 * - `LSTM` → {@link TFBRIDGE_LSTM}, `SimpleRNN` → {@link TFBRIDGE_SIMPLE_RNN}: TF.js's cells compute
 *   what Keras's do, but TF.js's loop would mask unlike Keras.
 * - `Conv1D` with `padding: "causal"` (TF.js: "not implemented yet") → {@link TFBRIDGE_CONV1D}.
 * - `LayerNormalization`, `BatchNormalization` → {@link TFBRIDGE_LAYER_NORMALIZATION},
 *   {@link TFBRIDGE_BATCH_NORMALIZATION}: TF.js orders the same arithmetic differently (up to 64 ULP).
 * - `GlobalAveragePooling1D` → {@link TFBRIDGE_GLOBAL_AVERAGE_POOLING_1D}: TF.js's ignores the mask.
 * - the merge layers → `Tfbridge<Class>` ({@link TFBRIDGE_MERGE_PREFIX}): TF.js's mask rules are not Keras 3's.
 * - `MultiHeadAttention`, `Attention`, `AdditiveAttention` → {@link ATTENTION_CLASSES}: TF.js has none.
 */
export function kerasCustomClass(className: string, config: KerasLayerConfig): string | null {
  if (className === "GRU") return TFBRIDGE_GRU;
  if (className === "LSTM") return TFBRIDGE_LSTM;
  if (className === "SimpleRNN") return TFBRIDGE_SIMPLE_RNN;
  if (className === "Conv1D" && config["padding"] === "causal") return TFBRIDGE_CONV1D;
  if (className === "LayerNormalization") return TFBRIDGE_LAYER_NORMALIZATION;
  if (className === "BatchNormalization") return TFBRIDGE_BATCH_NORMALIZATION;
  if (className === "GlobalAveragePooling1D") return TFBRIDGE_GLOBAL_AVERAGE_POOLING_1D;
  if ((MERGE_CLASSES as readonly string[]).includes(className)) return `${TFBRIDGE_MERGE_PREFIX}${className}`;
  return ATTENTION_CLASSES[className] ?? null;
}

/**
 * The TF.js activation name for a Keras 3 activation name whose TF.js namesake computes something
 * else, or `null` when the names agree. Only `hard_sigmoid` differs among the activations Keras's
 * recurrent and core layers use here; note that TF.js would camel-case it to its own `hardSigmoid`.
 */
export function kerasCustomActivation(name: string): string | null {
  return name === "hard_sigmoid" ? KERAS3_HARD_SIGMOID : null;
}

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
/** Keras 3's Conv1D with `padding: "causal"` besides `valid` and `same`, and dilated through space-to-batch as TensorFlow does. */
export const TFBRIDGE_CONV1D = "TfbridgeConv1D";

/** Keras 3's LayerNormalization: TF.js's weights and config, Keras's ops in Keras's order. */
export const TFBRIDGE_LAYER_NORMALIZATION = "TfbridgeLayerNormalization";
/** Keras 3's BatchNormalization at inference: TF.js's weights and config, tf.nn.batch_normalization's ops. */
export const TFBRIDGE_BATCH_NORMALIZATION = "TfbridgeBatchNormalization";

/** Keras 3's GlobalAveragePooling1D: averages only unmasked steps under a mask. */
export const TFBRIDGE_GLOBAL_AVERAGE_POOLING_1D = "TfbridgeGlobalAveragePooling1D";

/** ConvNeXt's LayerScale (keras.applications.convnext): `x * gamma`. */
export const TFBRIDGE_LAYER_SCALE = "TfbridgeLayerScale";

/** Keras 3's operation nodes (`x + y`, `keras.ops.*`): one class, its `compute` names the op (protocol/layers.json `operations`). */
export const TFBRIDGE_OPERATION = "TfbridgeOperation";
/** Keras 3's Conv2D with a dilation rate above 1, computed through space-to-batch as TensorFlow does. */
export const TFBRIDGE_CONV2D = "TfbridgeConv2D";
/** Keras 3's Conv3D dilated (through space-to-batch, as TensorFlow does) or `same`-padded with a kernel shorter than its stride. */
export const TFBRIDGE_CONV3D = "TfbridgeConv3D";
/** Keras 3's SeparableConv2D with a dilation rate above 1, computed through space-to-batch as TensorFlow does. */
export const TFBRIDGE_SEPARABLE_CONV2D = "TfbridgeSeparableConv2D";
/** Keras 3's DepthwiseConv2D with `dilation_rate` (TF.js's own ignores it), computed through space-to-batch. */
export const TFBRIDGE_DEPTHWISE_CONV2D = "TfbridgeDepthwiseConv2D";
/** Keras 3's GlobalAveragePooling2D with `keepdims`. */
export const TFBRIDGE_GLOBAL_AVERAGE_POOLING_2D = "TfbridgeGlobalAveragePooling2D";
/** Keras 3's GlobalMaxPooling2D with `keepdims`. */
export const TFBRIDGE_GLOBAL_MAX_POOLING_2D = "TfbridgeGlobalMaxPooling2D";
/** Keras 3's UpSampling2D with bilinear interpolation at half-pixel centres. */
export const TFBRIDGE_UP_SAMPLING_2D = "TfbridgeUpSampling2D";
/** Keras 3's ReLU layer: `max_value`, `negative_slope` and `threshold` (TF.js's has only maxValue). */
export const TFBRIDGE_RELU = "TfbridgeReLU";
/** Keras 3's LeakyReLU layer: `negative_slope` (TF.js calls it alpha). */
export const TFBRIDGE_LEAKY_RELU = "TfbridgeLeakyReLU";
/** Keras 3's PReLU layer: TF.js's weights, Keras's ops in Keras's order. */
export const TFBRIDGE_PRELU = "TfbridgePReLU";
/** Keras 3's ELU layer: any `alpha` (TF.js's refuses alpha ≠ 1). */
export const TFBRIDGE_ELU = "TfbridgeELU";
/** Keras 3's Softmax layer: an axis list and Keras's mask rule. */
export const TFBRIDGE_SOFTMAX = "TfbridgeSoftmax";
/** Keras 3's Identity, and the random augmentation layers, which are the identity at inference. */
export const TFBRIDGE_IDENTITY = "TfbridgeIdentity";
/** Keras 3's Normalization: mean and variance from the config or adapted (weights), and `invert`. */
export const TFBRIDGE_NORMALIZATION = "TfbridgeNormalization";
/** Keras 3's Resizing: TF's half-pixel centres (TF.js's uses align_corners), crop or pad to the aspect ratio. */
export const TFBRIDGE_RESIZING = "TfbridgeResizing";
/** Keras 3's CenterCrop: crops, or resizes as Keras does when the image is smaller than the crop. */
export const TFBRIDGE_CENTER_CROP = "TfbridgeCenterCrop";
/** Keras 3's CategoryEncoding: one_hot, multi_hot and count from TF's OneHot (TF.js's needs DenseBincount, which tfjs-node lacks). */
export const TFBRIDGE_CATEGORY_ENCODING = "TfbridgeCategoryEncoding";
/** Keras 3's Dot: Keras's batch_dot (one matmul) and l2 normalization. */
export const TFBRIDGE_DOT = "TfbridgeDot";
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
export const MERGE_CLASSES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"] as const;
/** The merges whose values, not only their output mask, depend on every input's mask. */
export const MASKED_VALUE_MERGES: readonly (typeof MERGE_CLASSES)[number][] = ["Maximum", "Minimum", "Multiply"];

/**
 * Keras 3 classes whose TF.js namesake takes other arguments or computes in another order, by our
 * class's name. (Rescaling: TF.js's own computes what Keras's does.)
 */
export const KERAS3_OWN_CLASSES: Readonly<Record<string, string>> = {
  ReLU: TFBRIDGE_RELU,
  LeakyReLU: TFBRIDGE_LEAKY_RELU,
  PReLU: TFBRIDGE_PRELU,
  ELU: TFBRIDGE_ELU,
  Softmax: TFBRIDGE_SOFTMAX,
  Normalization: TFBRIDGE_NORMALIZATION,
  Resizing: TFBRIDGE_RESIZING,
  CenterCrop: TFBRIDGE_CENTER_CROP,
  Dot: TFBRIDGE_DOT,
  CategoryEncoding: TFBRIDGE_CATEGORY_ENCODING,
  Identity: TFBRIDGE_IDENTITY,
  RandomFlip: TFBRIDGE_IDENTITY,
  RandomRotation: TFBRIDGE_IDENTITY,
  RandomZoom: TFBRIDGE_IDENTITY,
  RandomTranslation: TFBRIDGE_IDENTITY,
  RandomContrast: TFBRIDGE_IDENTITY,
  RandomBrightness: TFBRIDGE_IDENTITY,
};

/** A Keras 3 layer config as `model.to_json()` writes it: snake_case keys. */
export type KerasLayerConfig = Readonly<Record<string, unknown>>;

/** Whether `same` padding has a kernel shorter than its stride, where TF.js's JS kernels pad a 3-D window wrongly. */
function shortKernelSame(config: KerasLayerConfig): boolean {
  const [kernel, strides] = [config["kernel_size"], config["strides"]];
  return config["padding"] === "same" && Array.isArray(kernel) && Array.isArray(strides) && kernel.some((k, i) => k < strides[i]);
}

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
 * - ConvNeXt's `LayerScale` → {@link TFBRIDGE_LAYER_SCALE}: TF.js has none.
 * - `DepthwiseConv2D` with a `dilation_rate` other than 1 → {@link TFBRIDGE_DEPTHWISE_CONV2D}: TF.js's ignores it;
 *   dilated `Conv2D`, `SeparableConv2D`, `Conv3D` → {@link TFBRIDGE_CONV2D}, {@link TFBRIDGE_SEPARABLE_CONV2D},
 *   {@link TFBRIDGE_CONV3D}: TensorFlow dilates through space-to-batch, TF.js hands the dilation to ops
 *   TF's CPU kernels refuse (DepthwiseConv2dNative without oneDNN, Conv3D always); `Conv3D` also where
 *   `same` padding has a kernel shorter than its stride (TF.js's JS backends pad such a 3-D window by −1);
 *   `Conv2D` with `groups` above 1 → {@link TFBRIDGE_CONV2D} too: TF.js has no grouped convolution.
 * - `GlobalAveragePooling2D`, `GlobalMaxPooling2D` with `keepdims: true` → {@link TFBRIDGE_GLOBAL_AVERAGE_POOLING_2D},
 *   {@link TFBRIDGE_GLOBAL_MAX_POOLING_2D}: TF.js's have no `keepdims`.
 * - `UpSampling2D` with `interpolation: "bilinear"` → {@link TFBRIDGE_UP_SAMPLING_2D}: TF.js's samples
 *   without Keras 3's half-pixel centres.
 * - the merge layers → `Tfbridge<Class>` ({@link TFBRIDGE_MERGE_PREFIX}): TF.js's mask rules are not Keras 3's.
 * - the activation and preprocessing layers of `KERAS3_OWN_CLASSES`, and every layer that is
 *   the identity at inference without a TF.js class (`inferenceIdentity`: Identity, RandomFlip, …).
 * - `MultiHeadAttention`, `Attention`, `AdditiveAttention` → {@link ATTENTION_CLASSES}: TF.js has none.
 */
export function kerasCustomClass(className: string, config: KerasLayerConfig): string | null {
  if (className === "GRU") return TFBRIDGE_GRU;
  if (className === "LSTM") return TFBRIDGE_LSTM;
  if (className === "SimpleRNN") return TFBRIDGE_SIMPLE_RNN;
  if (className === "LayerNormalization") return TFBRIDGE_LAYER_NORMALIZATION;
  if (className === "BatchNormalization") return TFBRIDGE_BATCH_NORMALIZATION;
  if (className === "GlobalAveragePooling1D") return TFBRIDGE_GLOBAL_AVERAGE_POOLING_1D;
  if (className === "LayerScale") return TFBRIDGE_LAYER_SCALE;
  const dilated = Array.isArray(config["dilation_rate"]) && config["dilation_rate"].some((d) => d !== 1);
  if (className === "Conv1D" && (config["padding"] === "causal" || dilated)) return TFBRIDGE_CONV1D;
  if (className === "DepthwiseConv2D" && dilated) return TFBRIDGE_DEPTHWISE_CONV2D;
  if (className === "Conv2D" && (dilated || (config["groups"] ?? 1) !== 1)) return TFBRIDGE_CONV2D;
  if (className === "SeparableConv2D" && dilated) return TFBRIDGE_SEPARABLE_CONV2D;
  if (className === "Conv3D" && (dilated || shortKernelSame(config))) return TFBRIDGE_CONV3D;
  if (className === "GlobalAveragePooling2D" && config["keepdims"] === true) return TFBRIDGE_GLOBAL_AVERAGE_POOLING_2D;
  if (className === "GlobalMaxPooling2D" && config["keepdims"] === true) return TFBRIDGE_GLOBAL_MAX_POOLING_2D;
  if (className === "UpSampling2D" && config["interpolation"] === "bilinear") return TFBRIDGE_UP_SAMPLING_2D;
  if ((MERGE_CLASSES as readonly string[]).includes(className)) return `${TFBRIDGE_MERGE_PREFIX}${className}`;
  if (Object.hasOwn(KERAS3_OWN_CLASSES, className)) return KERAS3_OWN_CLASSES[className]!;
  return Object.hasOwn(ATTENTION_CLASSES, className) ? ATTENTION_CLASSES[className]! : null;
}

/** Keras 3's hard_silu (= hard_swish), x · hard_sigmoid(x). */
export const KERAS3_HARD_SILU = "keras3HardSilu";
/** Keras 3's leaky_relu activation (negative slope 0.2; TF.js has no such activation). */
export const KERAS3_LEAKY_RELU = "keras3LeakyRelu";
/** Keras 3's exponential activation, exp(x). */
export const KERAS3_EXPONENTIAL = "keras3Exponential";
/** Keras 3's hard_tanh, clip(x, -1, 1). */
export const KERAS3_HARD_TANH = "keras3HardTanh";
/** Keras 3's log_sigmoid, -softplus(-x). */
export const KERAS3_LOG_SIGMOID = "keras3LogSigmoid";
/** Keras 3's tanh_shrink, x - tanh(x). */
export const KERAS3_TANH_SHRINK = "keras3TanhShrink";

/** Keras 3 activation names TF.js has no activation for (or one that computes otherwise), by ours. */
const KERAS3_ACTIVATIONS: Readonly<Record<string, string>> = {
  hard_sigmoid: KERAS3_HARD_SIGMOID,
  hard_silu: KERAS3_HARD_SILU,
  hard_swish: KERAS3_HARD_SILU,
  leaky_relu: KERAS3_LEAKY_RELU,
  exponential: KERAS3_EXPONENTIAL,
  hard_tanh: KERAS3_HARD_TANH,
  log_sigmoid: KERAS3_LOG_SIGMOID,
  tanh_shrink: KERAS3_TANH_SHRINK,
};

/**
 * The TF.js activation name for a Keras 3 activation name whose TF.js namesake computes something
 * else or does not exist, or `null` when TF.js's own agrees. Note that TF.js would camel-case
 * `hard_sigmoid` to its own (Keras 2) `hardSigmoid`.
 */
export function kerasCustomActivation(name: string): string | null {
  return Object.hasOwn(KERAS3_ACTIVATIONS, name) ? KERAS3_ACTIVATIONS[name]! : null;
}

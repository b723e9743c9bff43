import { Layer } from "./builder.js";

/**
 * Typed factories for the layers of protocol/layers.json, named as in TF.js (`layers.dense({...})`);
 * arguments are Keras's, in camelCase, and every one left out takes Keras 3's default (not TF.js's).
 * Arguments that only matter for training or initialization are not offered: weights come from
 * `bridge.model(config, { weights | seed })`.
 */

/** Keras 3 activation names supported on both sides (protocol/layers.json `activations`). */
export type KerasActivation =
  | "linear" | "relu" | "relu6" | "tanh" | "sigmoid" | "hard_sigmoid" | "softmax" | "elu" | "selu" | "softplus" | "softsign" | "silu" | "swish" | "gelu"
  | "leaky_relu" | "hard_silu" | "hard_swish" | "mish" | "log_softmax" | "exponential" | "hard_tanh" | "log_sigmoid" | "tanh_shrink";

export interface Named {
  name?: string;
}
export interface RecurrentArgs extends Named {
  units: number;
  activation?: KerasActivation;
  useBias?: boolean;
  returnSequences?: boolean;
  returnState?: boolean;
  goBackwards?: boolean;
  unroll?: boolean;
  zeroOutputForMask?: boolean;
}
export interface Pooling1DArgs extends Named {
  poolSize: number;
  strides?: number | null;
  padding?: "valid" | "same";
}
/** Keras's 2-D `kernel_size`, `strides`, … : one number for every axis, or one per axis. */
export type Ints2 = number | [number, number];
/** A padding or cropping of height and width: `n`, `[height, width]`, or `[[top, bottom], [left, right]]`. */
export type Pairs2 = number | [number, number] | [[number, number], [number, number]];
export interface Conv2DArgs extends Named {
  kernelSize: Ints2;
  strides?: Ints2;
  padding?: "valid" | "same";
  dilationRate?: Ints2;
  activation?: KerasActivation;
  useBias?: boolean;
}
export interface Pooling2DArgs extends Named {
  poolSize?: Ints2;
  strides?: Ints2 | null;
  padding?: "valid" | "same";
}
export interface GlobalPooling2DArgs extends Named {
  keepdims?: boolean;
}
export interface NormalizationArgs extends Named {
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
}

const make = <A extends object>(cls: string) => (args: A) => new Layer(cls, args as Record<string, unknown>);
const none = (cls: string) => (args: Named = {}) => new Layer(cls, args as Record<string, unknown>);

export const layers = {
  dense: make<Named & { units: number; activation?: KerasActivation; useBias?: boolean }>("Dense"),
  activation: make<Named & { activation: KerasActivation }>("Activation"),
  dropout: make<Named & { rate: number }>("Dropout"),
  spatialDropout1d: make<Named & { rate: number }>("SpatialDropout1D"),
  gaussianNoise: make<Named & { stddev: number }>("GaussianNoise"),
  flatten: none("Flatten"),
  reshape: make<Named & { targetShape: number[] }>("Reshape"),
  permute: make<Named & { dims: number[] }>("Permute"),
  repeatVector: make<Named & { n: number }>("RepeatVector"),
  concatenate: (args: Named & { axis?: number } = {}) => new Layer("Concatenate", args as Record<string, unknown>),
  add: none("Add"),
  subtract: none("Subtract"),
  multiply: none("Multiply"),
  average: none("Average"),
  maximum: none("Maximum"),
  minimum: none("Minimum"),
  dot: make<Named & { axes: number | [number, number]; normalize?: boolean }>("Dot"),
  reLU: (args: Named & { maxValue?: number | null; negativeSlope?: number; threshold?: number } = {}) => new Layer("ReLU", args as Record<string, unknown>),
  leakyReLU: (args: Named & { negativeSlope?: number } = {}) => new Layer("LeakyReLU", args as Record<string, unknown>),
  prelu: (args: Named & { sharedAxes?: number | number[] | null } = {}) => new Layer("PReLU", args as Record<string, unknown>),
  elu: (args: Named & { alpha?: number } = {}) => new Layer("ELU", args as Record<string, unknown>),
  softmax: (args: Named & { axis?: number | number[] } = {}) => new Layer("Softmax", args as Record<string, unknown>),
  identity: none("Identity"),
  rescaling: make<Named & { scale: number; offset?: number }>("Rescaling"),
  /** Keras 3's Normalization: `mean` and `variance` given, or left out for adapted ones (weights `mean`, `variance`, `count`). */
  normalization: (args: Named & { axis?: number | number[]; mean?: number | number[] | null; variance?: number | number[] | null; invert?: boolean } = {}) =>
    new Layer("Normalization", args as Record<string, unknown>),
  resizing: make<Named & {
    height: number; width: number; interpolation?: "bilinear" | "nearest"; cropToAspectRatio?: boolean; padToAspectRatio?: boolean; fillValue?: number;
  }>("Resizing"),
  centerCrop: make<Named & { height: number; width: number }>("CenterCrop"),
  categoryEncoding: make<Named & { numTokens: number; outputMode?: "one_hot" | "multi_hot" | "count" }>("CategoryEncoding"),
  randomFlip: (args: Named & { mode?: "horizontal" | "vertical" | "horizontal_and_vertical" } = {}) => new Layer("RandomFlip", args as Record<string, unknown>),
  randomRotation: make<Named & { factor: number | [number, number] }>("RandomRotation"),
  randomZoom: make<Named & { heightFactor: number | [number, number]; widthFactor?: number | [number, number] | null }>("RandomZoom"),
  randomTranslation: make<Named & { heightFactor: number | [number, number]; widthFactor: number | [number, number] }>("RandomTranslation"),
  randomContrast: make<Named & { factor: number | [number, number] }>("RandomContrast"),
  randomBrightness: make<Named & { factor: number | [number, number] }>("RandomBrightness"),
  embedding: make<Named & { inputDim: number; outputDim: number; maskZero?: boolean }>("Embedding"),
  masking: (args: Named & { maskValue?: number } = {}) => new Layer("Masking", args as Record<string, unknown>),
  conv1d: make<Named & {
    filters: number; kernelSize: number; strides?: number; padding?: "valid" | "same" | "causal"; dilationRate?: number;
    activation?: KerasActivation; useBias?: boolean;
  }>("Conv1D"),
  maxPooling1d: make<Pooling1DArgs>("MaxPooling1D"),
  averagePooling1d: make<Pooling1DArgs>("AveragePooling1D"),
  globalAveragePooling1d: none("GlobalAveragePooling1D"),
  globalMaxPooling1d: none("GlobalMaxPooling1D"),
  conv2d: make<Conv2DArgs & { filters: number; groups?: number }>("Conv2D"),
  depthwiseConv2d: make<Conv2DArgs & { depthMultiplier?: number }>("DepthwiseConv2D"),
  separableConv2d: make<Conv2DArgs & { filters: number; depthMultiplier?: number }>("SeparableConv2D"),
  conv2dTranspose: make<Omit<Conv2DArgs, "dilationRate"> & { filters: number }>("Conv2DTranspose"),
  conv3d: make<Named & {
    filters: number; kernelSize: number | [number, number, number]; strides?: number | [number, number, number]; padding?: "valid" | "same";
    dilationRate?: number | [number, number, number]; activation?: KerasActivation; useBias?: boolean;
  }>("Conv3D"),
  maxPooling2d: (args: Pooling2DArgs = {}) => new Layer("MaxPooling2D", args as Record<string, unknown>),
  averagePooling2d: make<Pooling2DArgs & { poolSize: Ints2 }>("AveragePooling2D"),
  globalAveragePooling2d: (args: GlobalPooling2DArgs = {}) => new Layer("GlobalAveragePooling2D", args as Record<string, unknown>),
  globalMaxPooling2d: (args: GlobalPooling2DArgs = {}) => new Layer("GlobalMaxPooling2D", args as Record<string, unknown>),
  zeroPadding2d: (args: Named & { padding?: Pairs2 } = {}) => new Layer("ZeroPadding2D", args as Record<string, unknown>),
  cropping2d: (args: Named & { cropping?: Pairs2 } = {}) => new Layer("Cropping2D", args as Record<string, unknown>),
  upSampling2d: (args: Named & { size?: Ints2; interpolation?: "nearest" | "bilinear" } = {}) => new Layer("UpSampling2D", args as Record<string, unknown>),
  batchNormalization: (args: NormalizationArgs & { axis?: number } = {}) => new Layer("BatchNormalization", args as Record<string, unknown>),
  layerNormalization: (args: NormalizationArgs & { axis?: number | number[] } = {}) => new Layer("LayerNormalization", args as Record<string, unknown>),
  /** ConvNeXt's LayerScale: `x * gamma` over the last axis, `projectionDim` its size. */
  layerScale: make<Named & { projectionDim: number; initValues?: number }>("LayerScale"),
  lstm: make<RecurrentArgs & { recurrentActivation?: KerasActivation }>("LSTM"),
  gru: make<RecurrentArgs & { recurrentActivation?: KerasActivation; resetAfter?: boolean }>("GRU"),
  simpleRnn: make<RecurrentArgs>("SimpleRNN"),
  bidirectional: make<Named & { layer: Layer; mergeMode?: "concat" | "sum" | "mul" | "ave" | null }>("Bidirectional"),
  timeDistributed: make<Named & { layer: Layer }>("TimeDistributed"),
  multiHeadAttention: make<Named & {
    numHeads: number; keyDim: number; valueDim?: number; dropout?: number; useBias?: boolean; useGate?: boolean;
    outputShape?: number[]; attentionAxes?: number | number[]; slidingWindow?: number;
  }>("MultiHeadAttention"),
  attention: (args: Named & { useScale?: boolean; scoreMode?: "dot" | "concat" } = {}) => new Layer("Attention", args as Record<string, unknown>),
  additiveAttention: (args: Named & { useScale?: boolean } = {}) => new Layer("AdditiveAttention", args as Record<string, unknown>),
} as const;

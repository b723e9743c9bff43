import { Layer } from "./builder.js";

/**
 * Typed factories for the layers of protocol/layers.json, named as in TF.js (`layers.dense({...})`);
 * arguments are Keras's, in camelCase, and every one left out takes Keras 3's default (not TF.js's).
 * Arguments that only matter for training or initialization are not offered: weights come from
 * `bridge.model(config, { weights | seed })`.
 */

/** Keras 3 activation names supported on both sides (protocol/layers.json `activations`). */
export type KerasActivation =
  | "linear" | "relu" | "relu6" | "tanh" | "sigmoid" | "hard_sigmoid" | "softmax" | "elu" | "selu" | "softplus" | "softsign" | "silu" | "swish" | "gelu";

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
  batchNormalization: (args: NormalizationArgs & { axis?: number } = {}) => new Layer("BatchNormalization", args as Record<string, unknown>),
  layerNormalization: (args: NormalizationArgs & { axis?: number | number[] } = {}) => new Layer("LayerNormalization", args as Record<string, unknown>),
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

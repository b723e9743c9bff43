/**
 * TF.js classes for Keras 3 features TF.js lacks or computes differently, registered for
 * `tf.serialization` so `tf.models.modelFromJSON` / `tf.loadLayersModel` find them by class name.
 * Browser-safe: nothing here imports TF.js (or Node) at run time; the caller passes its `tf`.
 * @module tfbridge/tfjs-layers
 */
import { type TfbridgeActivationLayerClass, defineActivationLayers } from "./activation-layers.js";
import { defineKeras3Activations } from "./activations.js";
import { type TfbridgeConv1DClass, defineConv1D } from "./conv1d.js";
import { type TfbridgeConv2DClass, defineConv2D } from "./conv2d.js";
import { type TfbridgeDepthwiseConv2DClass, defineDepthwiseConv2D } from "./depthwise-conv2d.js";
import { type TfbridgeConv3DClass, defineConv3D } from "./conv3d.js";
import { type TfbridgeGlobalPooling2DClass, defineGlobalPooling2D } from "./global-pooling2d.js";
import { type TfbridgeUpSampling2DClass, defineUpSampling2D } from "./up-sampling2d.js";
import { type TfbridgeDotClass, defineDot } from "./dot.js";
import { type TfbridgeAttentionClass, defineAdditiveAttention, defineAttention } from "./attention.js";
import { type TfbridgeMultiHeadAttentionClass, defineMultiHeadAttention } from "./multi-head-attention.js";
import { type TfbridgeGRUCellClass, type TfbridgeGRUClass, defineGru } from "./gru.js";
import { type ActivationClass, defineKeras3HardSigmoid } from "./hard-sigmoid.js";
import { type TfbridgeLSTMClass, defineLstm } from "./lstm.js";
import { type TfbridgeBatchNormalizationClass, type TfbridgeLayerNormalizationClass, defineBatchNormalization, defineLayerNormalization } from "./normalization.js";
import { type TfbridgeMergeClass, defineMerges } from "./merge.js";
import { type TfbridgeLayerScaleClass, defineLayerScale } from "./layer-scale.js";
import { type TfbridgeOperationClass, defineOperation } from "./operation.js";
import { type TfbridgeGlobalAveragePooling1DClass, defineGlobalAveragePooling1D } from "./pooling.js";
import { type TfbridgeCategoryEncodingClass, type TfbridgePreprocessingClass, defineCategoryEncoding, defineIdentity, defineNormalization } from "./preprocessing.js";
import { type TfbridgeImageLayerClass, defineResizing } from "./resizing.js";
import { type TfbridgeSeparableConv2DClass, defineSeparableConv2D } from "./separable-conv2d.js";
import { type TfbridgeSimpleRNNClass, defineSimpleRnn } from "./simple-rnn.js";
import type { TfModule } from "./tfjs-types.js";

export {
  ATTENTION_CLASSES,
  KERAS3_HARD_SIGMOID,
  TFBRIDGE_ADDITIVE_ATTENTION,
  TFBRIDGE_ATTENTION,
  TFBRIDGE_MULTI_HEAD_ATTENTION,
  TFBRIDGE_BATCH_NORMALIZATION,
  TFBRIDGE_CLASS_PREFIX,
  TFBRIDGE_CONV1D,
  TFBRIDGE_CONV2D,
  TFBRIDGE_CONV3D,
  TFBRIDGE_DEPTHWISE_CONV2D,
  TFBRIDGE_SEPARABLE_CONV2D,
  TFBRIDGE_GLOBAL_AVERAGE_POOLING_2D,
  TFBRIDGE_GLOBAL_MAX_POOLING_2D,
  TFBRIDGE_UP_SAMPLING_2D,
  TFBRIDGE_GLOBAL_AVERAGE_POOLING_1D,
  TFBRIDGE_GRU,
  TFBRIDGE_GRU_CELL,
  TFBRIDGE_LAYER_NORMALIZATION,
  TFBRIDGE_LAYER_SCALE,
  TFBRIDGE_LSTM,
  TFBRIDGE_MERGE_PREFIX,
  TFBRIDGE_OPERATION,
  TFBRIDGE_SIMPLE_RNN,
  TFBRIDGE_CATEGORY_ENCODING,
  TFBRIDGE_CENTER_CROP,
  TFBRIDGE_DOT,
  TFBRIDGE_ELU,
  TFBRIDGE_IDENTITY,
  TFBRIDGE_LEAKY_RELU,
  TFBRIDGE_NORMALIZATION,
  TFBRIDGE_PRELU,
  TFBRIDGE_RELU,
  TFBRIDGE_RESIZING,
  TFBRIDGE_SOFTMAX,
  type KerasLayerConfig,
  kerasCustomActivation,
  kerasCustomClass,
} from "./names.js";
export type { TfbridgeAttentionArgs, TfbridgeAttentionClass } from "./attention.js";
export type { TfbridgeMultiHeadAttentionArgs, TfbridgeMultiHeadAttentionClass } from "./multi-head-attention.js";
export type { ConvLayerArgs, TfbridgeConv1DArgs, TfbridgeConv1DClass } from "./conv1d.js";
export type { TfbridgeDepthwiseConv2DClass } from "./depthwise-conv2d.js";
export type { TfbridgeConv3DClass } from "./conv3d.js";
export type { TfbridgeConv2DArgs, TfbridgeConv2DClass } from "./conv2d.js";
export type { TfbridgeSeparableConv2DClass } from "./separable-conv2d.js";
export type { TfbridgeGlobalPooling2DArgs, TfbridgeGlobalPooling2DClass } from "./global-pooling2d.js";
export type { TfbridgeUpSampling2DClass } from "./up-sampling2d.js";
export type { TfbridgeGRUArgs, TfbridgeGRUCellArgs, TfbridgeGRUCellClass, TfbridgeGRUClass } from "./gru.js";
export type { ActivationClass } from "./hard-sigmoid.js";
export type { KerasLoop } from "./keras-rnn.js";
export type { TfbridgeLSTMArgs, TfbridgeLSTMClass } from "./lstm.js";
export type { TfbridgeBatchNormalizationClass, TfbridgeLayerNormalizationClass } from "./normalization.js";
export type { TfbridgeGlobalAveragePooling1DClass } from "./pooling.js";
export type { TfbridgeMergeClass } from "./merge.js";
export type { TfbridgeLayerScaleArgs, TfbridgeLayerScaleClass } from "./layer-scale.js";
export type { IndexSlice, TfbridgeOperationArgs, TfbridgeOperationClass } from "./operation.js";
export type { TfbridgeActivationLayerClass } from "./activation-layers.js";
export type { TfbridgeDotClass } from "./dot.js";
export type { CategoryEncodingArgs, TfbridgeCategoryEncodingClass, TfbridgePreprocessingClass } from "./preprocessing.js";
export type { TfbridgeImageLayerClass } from "./resizing.js";
export type { TfbridgeSimpleRNNArgs, TfbridgeSimpleRNNClass } from "./simple-rnn.js";
export type { Tensor, TfModule } from "./tfjs-types.js";
export { IGNORE_MASK, IGNORE_MASK_KEY } from "./stock-mask.js";

/** The registered classes, for building layers directly (`new TfbridgeGRU({...})`). */
export interface KerasLayerClasses {
  Keras3HardSigmoid: ActivationClass;
  TfbridgeGRUCell: TfbridgeGRUCellClass;
  TfbridgeGRU: TfbridgeGRUClass;
  TfbridgeLSTM: TfbridgeLSTMClass;
  TfbridgeSimpleRNN: TfbridgeSimpleRNNClass;
  TfbridgeConv1D: TfbridgeConv1DClass;
  TfbridgeLayerNormalization: TfbridgeLayerNormalizationClass;
  TfbridgeBatchNormalization: TfbridgeBatchNormalizationClass;
  TfbridgeGlobalAveragePooling1D: TfbridgeGlobalAveragePooling1DClass;
  /** Keras 3's operation nodes (`x + y`, `keras.ops.*`). */
  TfbridgeOperation: TfbridgeOperationClass;
  /** ConvNeXt's LayerScale. */
  TfbridgeLayerScale: TfbridgeLayerScaleClass;
  TfbridgeConv2D: TfbridgeConv2DClass;
  TfbridgeConv3D: TfbridgeConv3DClass;
  TfbridgeDepthwiseConv2D: TfbridgeDepthwiseConv2DClass;
  TfbridgeSeparableConv2D: TfbridgeSeparableConv2DClass;
  TfbridgeGlobalAveragePooling2D: TfbridgeGlobalPooling2DClass;
  TfbridgeGlobalMaxPooling2D: TfbridgeGlobalPooling2DClass;
  TfbridgeUpSampling2D: TfbridgeUpSampling2DClass;
  TfbridgeMultiHeadAttention: TfbridgeMultiHeadAttentionClass;
  TfbridgeAttention: TfbridgeAttentionClass;
  TfbridgeAdditiveAttention: TfbridgeAttentionClass;
  /** Keras 3's merge layers by Keras class name (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate). */
  merges: Record<string, TfbridgeMergeClass>;
  /** Keras 3's activations TF.js lacks (hard_silu, leaky_relu, …), by registered name (`keras3HardSilu`, …). */
  activations: Record<string, ActivationClass>;
  /** Keras 3's ReLU, LeakyReLU, PReLU, ELU and Softmax layers, by registered name (`TfbridgeReLU`, …). */
  activationLayers: Record<string, TfbridgeActivationLayerClass>;
  TfbridgeIdentity: TfbridgePreprocessingClass;
  TfbridgeNormalization: TfbridgePreprocessingClass;
  TfbridgeCategoryEncoding: TfbridgeCategoryEncodingClass;
  TfbridgeResizing: TfbridgeImageLayerClass;
  TfbridgeCenterCrop: TfbridgeImageLayerClass;
  TfbridgeDot: TfbridgeDotClass;
}

const registered = new WeakMap<TfModule, KerasLayerClasses>();

/**
 * Defines our classes against `tf` and registers them with `tf.serialization.registerClass`; a second
 * call with the same `tf` returns the same classes without registering again.
 */
export function registerKerasLayers(tf: TfModule): KerasLayerClasses {
  const known = registered.get(tf);
  if (known) return known;
  const classes: KerasLayerClasses = {
    Keras3HardSigmoid: defineKeras3HardSigmoid(tf),
    ...defineGru(tf),
    TfbridgeLSTM: defineLstm(tf),
    TfbridgeSimpleRNN: defineSimpleRnn(tf),
    TfbridgeConv1D: defineConv1D(tf),
    TfbridgeLayerNormalization: defineLayerNormalization(tf),
    TfbridgeBatchNormalization: defineBatchNormalization(tf),
    TfbridgeGlobalAveragePooling1D: defineGlobalAveragePooling1D(tf),
    TfbridgeOperation: defineOperation(tf),
    TfbridgeLayerScale: defineLayerScale(tf),
    TfbridgeConv2D: defineConv2D(tf),
    TfbridgeConv3D: defineConv3D(tf),
    TfbridgeDepthwiseConv2D: defineDepthwiseConv2D(tf),
    TfbridgeSeparableConv2D: defineSeparableConv2D(tf),
    ...defineGlobalPooling2D(tf),
    TfbridgeUpSampling2D: defineUpSampling2D(tf),
    TfbridgeMultiHeadAttention: defineMultiHeadAttention(tf),
    TfbridgeAttention: defineAttention(tf),
    TfbridgeAdditiveAttention: defineAdditiveAttention(tf),
    merges: defineMerges(tf),
    activations: defineKeras3Activations(tf),
    activationLayers: defineActivationLayers(tf),
    TfbridgeIdentity: defineIdentity(tf),
    TfbridgeNormalization: defineNormalization(tf),
    TfbridgeCategoryEncoding: defineCategoryEncoding(tf),
    ...defineResizing(tf),
    TfbridgeDot: defineDot(tf),
  };
  const { merges, activations, activationLayers, ...others } = classes;
  for (const cls of [...Object.values(others), ...Object.values(merges), ...Object.values(activations), ...Object.values(activationLayers)]) tf.serialization.registerClass(cls as never);
  registered.set(tf, classes);
  return classes;
}

/**
 * TF.js classes for Keras 3 features TF.js lacks or computes differently, registered for
 * `tf.serialization` so `tf.models.modelFromJSON` / `tf.loadLayersModel` find them by class name.
 * Browser-safe: nothing here imports TF.js (or Node) at run time; the caller passes its `tf`.
 * @module tfbridge/tfjs-layers
 */
import { type TfbridgeAttentionClass, defineAdditiveAttention, defineAttention } from "./attention.js";
import { type TfbridgeConv1DClass, defineConv1D } from "./conv1d.js";
import { type TfbridgeMultiHeadAttentionClass, defineMultiHeadAttention } from "./multi-head-attention.js";
import { type TfbridgeGRUCellClass, type TfbridgeGRUClass, defineGru } from "./gru.js";
import { type ActivationClass, defineKeras3HardSigmoid } from "./hard-sigmoid.js";
import { type TfbridgeLSTMClass, defineLstm } from "./lstm.js";
import { type TfbridgeBatchNormalizationClass, type TfbridgeLayerNormalizationClass, defineBatchNormalization, defineLayerNormalization } from "./normalization.js";
import { type TfbridgeMergeClass, defineMerges } from "./merge.js";
import { type TfbridgeGlobalAveragePooling1DClass, defineGlobalAveragePooling1D } from "./pooling.js";
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
  TFBRIDGE_GLOBAL_AVERAGE_POOLING_1D,
  TFBRIDGE_GRU,
  TFBRIDGE_GRU_CELL,
  TFBRIDGE_LAYER_NORMALIZATION,
  TFBRIDGE_LSTM,
  TFBRIDGE_MERGE_PREFIX,
  TFBRIDGE_SIMPLE_RNN,
  type KerasLayerConfig,
  kerasCustomActivation,
  kerasCustomClass,
} from "./names.js";
export type { TfbridgeAttentionArgs, TfbridgeAttentionClass } from "./attention.js";
export type { TfbridgeMultiHeadAttentionArgs, TfbridgeMultiHeadAttentionClass } from "./multi-head-attention.js";
export type { ConvLayerArgs, TfbridgeConv1DArgs, TfbridgeConv1DClass } from "./conv1d.js";
export type { TfbridgeGRUArgs, TfbridgeGRUCellArgs, TfbridgeGRUCellClass, TfbridgeGRUClass } from "./gru.js";
export type { ActivationClass } from "./hard-sigmoid.js";
export type { KerasLoop } from "./keras-rnn.js";
export type { TfbridgeLSTMArgs, TfbridgeLSTMClass } from "./lstm.js";
export type { TfbridgeBatchNormalizationClass, TfbridgeLayerNormalizationClass } from "./normalization.js";
export type { TfbridgeGlobalAveragePooling1DClass } from "./pooling.js";
export type { TfbridgeMergeClass } from "./merge.js";
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
  TfbridgeMultiHeadAttention: TfbridgeMultiHeadAttentionClass;
  TfbridgeAttention: TfbridgeAttentionClass;
  TfbridgeAdditiveAttention: TfbridgeAttentionClass;
  /** Keras 3's merge layers by Keras class name (Add, Subtract, Multiply, Average, Maximum, Concatenate). */
  merges: Record<string, TfbridgeMergeClass>;
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
    TfbridgeMultiHeadAttention: defineMultiHeadAttention(tf),
    TfbridgeAttention: defineAttention(tf),
    TfbridgeAdditiveAttention: defineAdditiveAttention(tf),
    merges: defineMerges(tf),
  };
  const { merges, ...others } = classes;
  for (const cls of [...Object.values(others), ...Object.values(merges)]) tf.serialization.registerClass(cls as never);
  registered.set(tf, classes);
  return classes;
}

import type { KerasModelConfig } from "../models/config.js";
import { type KerasActivation, layers } from "../models/layers.js";
import { type Layer, type SymbolicTensor, input, model } from "../models/builder.js";
import { randomImageModel } from "./image-model-generator.js";
import { preprocessingBlock } from "./activation-blocks.js";
import { attentionBlock } from "./attention-block.js";

/** A seeded source of choices (mulberry32), so model N of a sweep is the same model on every run. */
class Choices {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const ACTIVATIONS: KerasActivation[] = ["linear", "relu", "tanh", "sigmoid", "hard_sigmoid", "elu", "softplus", "softsign", "relu6", "silu", "selu", "gelu"];
const RECURRENT: KerasActivation[] = ["tanh", "relu", "sigmoid", "hard_sigmoid", "linear"];
const GATES: KerasActivation[] = ["sigmoid", "hard_sigmoid"];

/** A tensor being grown: [batch, steps, channels] (a sequence) or [batch, channels]. */
interface Flow {
  t: SymbolicTensor;
  steps: number | null;
  channels: number;
}

function apply(layer: Layer, x: SymbolicTensor | SymbolicTensor[], opts?: Parameters<Layer["apply"]>[1]): SymbolicTensor {
  return layer.apply(x, opts);
}

/**
 * A random recurrent layer. Inside Bidirectional it never goes backwards: Keras 3 cannot rebuild
 * Bidirectional(go_backwards=True) from a config without an explicit backward_layer ("Forward layer
 * and backward layer should have different go_backwards value").
 */
function rnn(c: Choices, units: number, returnSequences: boolean, wrapped = false): Layer {
  const kind = c.pick(["LSTM", "GRU", "SimpleRNN"] as const);
  const common = { units, activation: c.pick(RECURRENT), useBias: c.chance(0.8), returnSequences, goBackwards: !wrapped && c.chance(0.25) };
  if (kind === "LSTM") return layers.lstm({ ...common, recurrentActivation: c.pick(GATES) });
  if (kind === "GRU") return layers.gru({ ...common, recurrentActivation: c.pick(GATES), resetAfter: c.chance(0.6) });
  return layers.simpleRnn(common);
}

/** One block on a sequence; keeps it a sequence. */
function sequenceBlock(c: Choices, f: Flow): Flow {
  const what = c.pick(["rnn", "bidirectional", "dense", "timeDistributed", "layerNorm", "batchNorm", "activation", "preprocessing", "identity", "conv", "conv", "pool", "branches", "attention"]);
  const units = c.int(1, 6);
  switch (what) {
    case "rnn":
      return { ...f, t: apply(rnn(c, units, true), f.t), channels: units };
    case "bidirectional": {
      const mergeMode = c.pick(["concat", "sum", "mul", "ave"] as const);
      return { ...f, t: apply(layers.bidirectional({ layer: rnn(c, units, true, true), mergeMode }), f.t), channels: mergeMode === "concat" ? 2 * units : units };
    }
    case "dense":
      return { ...f, t: apply(layers.dense({ units, activation: c.pick(ACTIVATIONS), useBias: c.chance(0.8) }), f.t), channels: units };
    case "timeDistributed":
      return { ...f, t: apply(layers.timeDistributed({ layer: layers.dense({ units, activation: c.pick(ACTIVATIONS) }) }), f.t), channels: units };
    case "layerNorm":
      return { ...f, t: apply(layers.layerNormalization({ epsilon: c.pick([1e-3, 1e-5]), center: c.chance(0.8), scale: c.chance(0.8) }), f.t) };
    case "batchNorm":
      return { ...f, t: apply(layers.batchNormalization({ epsilon: c.pick([1e-3, 1e-5]), center: c.chance(0.8), scale: c.chance(0.8) }), f.t) };
    case "activation":
      return { ...f, t: apply(layers.activation({ activation: c.pick(ACTIVATIONS) }), f.t) };
    case "preprocessing":
      return preprocessingBlock(c, f);
    case "identity":
      return { ...f, t: apply(c.pick([layers.dropout({ rate: 0.3 }), layers.spatialDropout1d({ rate: 0.3 }), layers.gaussianNoise({ stddev: 0.5 })]), f.t) };
    case "conv": {
      const kernelSize = c.int(1, 3);
      const padding = c.pick(["valid", "same", "causal"] as const);
      const strides = c.chance(0.3) ? 2 : 1;
      const dilationRate = strides === 1 && c.chance(0.3) ? 2 : 1;
      const span = (kernelSize - 1) * dilationRate + 1;
      const steps = f.steps!;
      if (padding === "valid" && span > steps) return f;
      const out = padding === "valid" ? Math.ceil((steps - span + 1) / strides) : Math.ceil(steps / strides);
      const conv = layers.conv1d({ filters: units, kernelSize, padding, strides, dilationRate, activation: c.pick(ACTIVATIONS) });
      return { ...f, t: apply(conv, f.t), steps: out, channels: units };
    }
    case "pool": {
      const steps = f.steps!;
      if (steps < 2) return f;
      const padding = c.pick(["valid", "same"] as const);
      const pool = c.chance(0.5) ? layers.maxPooling1d({ poolSize: 2, padding }) : layers.averagePooling1d({ poolSize: 2, padding });
      return { ...f, t: apply(pool, f.t), steps: padding === "valid" ? Math.floor(steps / 2) : Math.ceil(steps / 2) };
    }
    case "attention":
      return { ...f, t: attentionBlock(c, f.t, f.channels) };
    default: {
      const a = apply(layers.dense({ units, activation: c.pick(ACTIVATIONS) }), f.t);
      const b = apply(rnn(c, units, true), f.t);
      const merge = c.pick(["add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"] as const);
      return { ...f, t: apply(layers[merge](), [a, b]), channels: merge === "concatenate" ? 2 * units : units };
    }
  }
}

/** Reduces a sequence to [batch, channels]. */
function head(c: Choices, f: Flow): Flow {
  const units = c.int(1, 6);
  const what = c.pick(["rnn", "rnn", "flatten", "globalAvg", "globalMax"]);
  if (what === "rnn") {
    const wrapped = c.chance(0.3) ? layers.bidirectional({ layer: rnn(c, units, false, true), mergeMode: c.pick(["concat", "sum", "mul", "ave"] as const) }) : rnn(c, units, false);
    const channels = wrapped.className === "Bidirectional" && wrapped.config.merge_mode === "concat" ? 2 * units : units;
    return { t: apply(wrapped, f.t), steps: null, channels };
  }
  if (what === "flatten") return { t: apply(layers.flatten(), f.t), steps: null, channels: f.steps! * f.channels };
  const pool = what === "globalAvg" ? layers.globalAveragePooling1d() : layers.globalMaxPooling1d();
  return { t: apply(pool, f.t), steps: null, channels: f.channels };
}

function source(c: Choices, name: string): { input: SymbolicTensor; flow: Flow } {
  const steps = c.int(2, 7);
  const kind = c.pick(["float", "float", "ids", "masking"]);
  if (kind === "ids") {
    const x = input({ shape: [steps], dtype: "int32", name });
    const maskZero = c.chance(0.5);
    const outputDim = c.int(2, 6);
    return { input: x, flow: { t: apply(layers.embedding({ inputDim: c.int(5, 30), outputDim, maskZero }), x), steps, channels: outputDim } };
  }
  const features = c.int(1, 5);
  const x = input({ shape: [steps, features], name });
  if (kind === "masking") return { input: x, flow: { t: apply(layers.masking({ maskValue: 0 }), x), steps, channels: features } };
  return { input: x, flow: { t: x, steps, channels: features } };
}

/** The share of a sweep's random models that are image models (see image-model-generator.ts). */
const IMAGE_MODELS = 0.3;

/**
 * Random but valid model `index` of a sweep seeded by `seed`: about 3 in 10 of them an image model
 * (image-model-generator.ts), the others one or two inputs (float sequences,
 * Embedding ids with or without mask_zero, Masking), 1–3 sequence blocks (recurrent, bidirectional,
 * Conv1D, pooling, normalization, merges of parallel branches, attention), a reduction, optionally an
 * encoder–decoder with initial_state and RepeatVector, and one or two outputs.
 */
export function randomModel(seed: number, index: number): KerasModelConfig {
  const stream = seed * 1_000_003 + index * 7919;
  // Image or sequence is drawn from a stream of its own (stream + 2), so every index that stays a
  // sequence model draws from stream + 1 exactly as before image models existed: the same model.
  const image = new Choices(stream + 2);
  if (image.chance(IMAGE_MODELS)) return randomImageModel(image, `random_${seed}_${index}`);
  const c = new Choices(stream + 1);
  // Layers added after the sequence models were fixed draw from a stream of their own too (stream + 3).
  const extra = new Choices(stream + 3);
  const inputs: SymbolicTensor[] = [];
  const heads: Flow[] = [];
  const branches = c.chance(0.25) ? 2 : 1;
  for (let b = 0; b < branches; b++) {
    const { input: x, flow } = source(c, `input_${b}`);
    inputs.push(x);
    let f = flow;
    for (let i = c.int(1, 3); i > 0; i--) f = sequenceBlock(c, f);
    heads.push(head(c, f));
  }
  let f: Flow = heads.length === 2 ? { t: apply(layers.concatenate(), heads.map((h) => h.t)), steps: null, channels: heads[0]!.channels + heads[1]!.channels } : heads[0]!;
  const outputs: SymbolicTensor[] = [];
  if (c.chance(0.2)) {
    // Encoder–decoder: the states of an encoder RNN seed a decoder over a repeated vector.
    const units = c.int(1, 5);
    const steps = c.int(2, 4);
    const encoder = layers.lstm({ units, returnState: true, recurrentActivation: "sigmoid" }).applyAll(apply(layers.repeatVector({ n: steps }), f.t));
    const decoderIn = apply(layers.repeatVector({ n: steps }), f.t);
    const decoded = apply(layers.lstm({ units, returnSequences: true }), decoderIn, { initialState: encoder.slice(1) });
    outputs.push(apply(layers.timeDistributed({ layer: layers.dense({ units: c.int(1, 3), activation: "softmax" }) }), decoded));
    f = { t: encoder[1]!, steps: null, channels: units };
  }
  if (c.chance(0.2)) {
    const reshaped = apply(layers.reshape({ targetShape: [f.channels, 1] }), f.t);
    const permuted = apply(layers.permute({ dims: [2, 1] }), reshaped);
    f = { ...f, t: apply(layers.flatten(), permuted) };
  }
  // A Maximum or Minimum of the reduced features and a projection of them: the merges branch blocks draw rarely.
  if (extra.chance(0.15)) f = { ...f, t: apply(layers[extra.pick(["maximum", "minimum"] as const)](), [f.t, apply(layers.dense({ units: f.channels }), f.t)]) };
  // A shared layer: one Dense called twice, the second time on its own output.
  if (extra.chance(0.15)) {
    const shared = layers.dense({ units: f.channels, activation: "tanh" });
    f = { ...f, t: apply(shared, apply(shared, f.t)) };
  }
  // ConvNeXt's LayerScale on the reduced features.
  if (extra.chance(0.15)) f = { ...f, t: apply(layers.layerScale({ projectionDim: f.channels, initValues: extra.pick([1e-6, 0.5]) }), f.t) };
  outputs.push(apply(layers.dense({ units: c.int(1, 4), activation: c.pick(["linear", "softmax", "sigmoid", "tanh"] as const) }), f.t));
  // A bag of the token ids beside the sequence path: CategoryEncoding of an ids input (every id is below 30, the largest Embedding's input_dim).
  const ids = inputs.find((x) => x.layer.config.dtype === "int32");
  if (ids && extra.chance(0.3)) {
    const bag = apply(layers.categoryEncoding({ numTokens: 30, outputMode: extra.pick(["multi_hot", "count"] as const) }), ids);
    outputs.push(apply(layers.dense({ units: extra.int(1, 3) }), bag));
  }
  return model({ inputs, outputs, name: `random_${seed}_${index}` });
}

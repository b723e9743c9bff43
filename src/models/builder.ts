import { ModelError } from "../errors.js";
import type { KerasHistory, KerasLayerConfig, KerasModelConfig, KerasTensorRef } from "./config.js";
import { LAYER_RULES, MASK_OP_CLASSES, checkModelConfig } from "./schema.js";

/** A symbolic tensor of a model being described: which layer made it, and which of its outputs it is. */
export class SymbolicTensor {
  constructor(
    readonly layer: Layer,
    readonly index: number,
  ) {}
}

/** Options of {@link Layer.apply}. */
export interface ApplyOptions {
  /** Initial states of a recurrent layer (LSTM: [h, c]; GRU, SimpleRNN: [h]). */
  initialState?: SymbolicTensor[];
  /** MultiHeadAttention: the value the applied query attends to (self-attention: the query again). */
  value?: SymbolicTensor;
  /** MultiHeadAttention: the key (default: the value). */
  key?: SymbolicTensor;
  /** MultiHeadAttention: a [batch, T, S] mask, nonzero where a query step may attend to a value step. */
  attentionMask?: SymbolicTensor;
  /** The attention layers: mask out future steps. */
  useCausalMask?: boolean;
  /** The attention layers: the scores become a second output ({@link Layer.applyAll}). */
  returnAttentionScores?: boolean;
}

/** The call arguments of {@link ApplyOptions} as Keras's call takes them. */
const CALL_KWARGS: Record<string, keyof ApplyOptions> = {
  initial_state: "initialState", value: "value", key: "key", attention_mask: "attentionMask", use_causal_mask: "useCausalMask", return_attention_scores: "returnAttentionScores",
};

const camelToSnake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** Keras's own default layer names (keras/src/utils/naming.py to_snake_case): GlobalAveragePooling1D → global_average_pooling1d. */
const classToSnake = (cls: string) => cls.replace(/(.)([A-Z][a-z0-9]+)/g, "$1_$2").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();

/**
 * Keras's shorthands for a padding or cropping of `length` axes: `n` (n before and after every axis)
 * or `[a, b, …]` (a before and after the first axis, …); a list of pairs is taken as written.
 */
function pairs(value: unknown, length: number): unknown {
  if (typeof value === "number") return Array.from({ length }, () => [value, value]);
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) return value.map((v) => [v, v]);
  return value;
}

/** How many tensors a layer call returns: recurrent states, Bidirectional's merge_mode null and attention scores add some. */
function outputCount(cls: string, config: Record<string, unknown>, kwargs: Record<string, unknown>): number {
  if (kwargs.return_attention_scores) return 2;
  const states: Record<string, number> = { LSTM: 2, GRU: 1, SimpleRNN: 1 };
  if (cls in states) return 1 + (config.return_state ? states[cls]! : 0);
  if (cls === "Bidirectional") {
    const inner = config.layer as KerasLayerConfig;
    const perDirection = states[inner.class_name] ?? 0;
    return (config.merge_mode === null ? 2 : 1) + (inner.config.return_state ? 2 * perDirection : 0);
  }
  return 1;
}

/**
 * One layer of a model being described, in TF.js's style: create it with a factory from
 * {@link layers}, call {@link apply} on symbolic tensors. It only describes; nothing runs in Node.
 */
export class Layer {
  /** @internal */ readonly config: Record<string, unknown>;
  /** @internal */ inbound: { args: unknown[]; kwargs: Record<string, unknown> } | null = null;
  name: string | undefined;

  constructor(
    readonly className: string,
    args: Record<string, unknown>,
  ) {
    const rule = LAYER_RULES[className];
    if (!rule) throw new ModelError(`layer class ${className} is not supported`, { problems: [{ layer: "?", class: className, reason: "tfbridge's builder has no factory for it" }] });
    const { name, ...rest } = args as { name?: string };
    this.name = name;
    this.config = {};
    for (const [key, value] of Object.entries(rest)) {
      if (value === undefined) continue;
      const snake = camelToSnake(key);
      const argRule = rule.args[snake];
      if (value instanceof Layer) this.config[snake] = value.toEntry(value.name ?? `${snake}_${classToSnake(value.className)}`);
      else if (argRule?.type === "ints" && typeof value === "number") this.config[snake] = Array(argRule.length).fill(value);
      else if (argRule?.type === "pairs") this.config[snake] = pairs(value, argRule.length);
      else this.config[snake] = value;
    }
  }

  /**
   * Calls the layer on one tensor (or a list, for merge layers and Attention's `[query, value, key?]`)
   * and returns its first output; for a recurrent layer with `returnState`, a Bidirectional with
   * `mergeMode: null` or an attention layer with `returnAttentionScores`, {@link applyAll} returns all
   * of them. MultiHeadAttention takes the query here and the rest in `options` (`value`, `key`, …).
   */
  apply(inputs: SymbolicTensor | SymbolicTensor[], options: ApplyOptions = {}): SymbolicTensor {
    return this.applyAll(inputs, options)[0]!;
  }

  /** Calls the layer like {@link apply} and returns every output: e.g. `[output, h, c]` for an LSTM with `returnState`. */
  applyAll(inputs: SymbolicTensor | SymbolicTensor[], options: ApplyOptions = {}): SymbolicTensor[] {
    if (this.inbound) throw new ModelError(`layer ${this.name ?? this.className} is applied twice (shared layers are not supported yet)`);
    const kwargs: Record<string, unknown> = {};
    for (const [keras, option] of Object.entries(CALL_KWARGS)) if (options[option] !== undefined) kwargs[keras] = options[option];
    this.inbound = { args: [inputs], kwargs };
    return Array.from({ length: outputCount(this.className, this.config, kwargs) }, (_, i) => new SymbolicTensor(this, i));
  }

  /** The layer's entry in a Keras 3 config. @internal */
  toEntry(name: string, refs?: (t: SymbolicTensor) => KerasTensorRef): KerasLayerConfig {
    const module = LAYER_RULES[this.className]!.module;
    const entry: KerasLayerConfig = { module: module ?? "keras.layers", class_name: this.className, config: { name, ...this.config }, registered_name: module ? this.className : null };
    if (refs && this.inbound) {
      const serialize = (v: unknown): unknown => (v instanceof SymbolicTensor ? refs(v) : Array.isArray(v) ? v.map(serialize) : v);
      entry.name = name;
      const kwargs = Object.fromEntries(Object.entries(this.inbound.kwargs).map(([k, v]) => [k, serialize(v)]));
      entry.inbound_nodes = [{ args: this.inbound.args.map(serialize), kwargs }];
    } else if (refs) {
      entry.name = name;
      entry.inbound_nodes = [];
    }
    return entry;
  }
}

/** Options of {@link input}. */
export interface InputOptions {
  /** Shape without the batch dimension; null for a free dimension. */
  shape: (number | null)[];
  dtype?: "float32" | "int32" | "int64";
  name?: string;
}

/** A model input, like `keras.Input` / `tf.input`. */
export function input({ shape, dtype = "float32", name }: InputOptions): SymbolicTensor {
  const layer = new Layer("InputLayer", { batchShape: [null, ...shape], dtype, name });
  return new SymbolicTensor(layer, 0);
}

/** The names Keras gives its mask bookkeeping's operation nodes (layers.json maskOps), snake_case. */
const MASK_OP_NAMES = new Set(MASK_OP_CLASSES.map(classToSnake));

function uniqueNamer() {
  const used = new Set<string>();
  return (layer: Layer): string => {
    if (layer.name) {
      if (used.has(layer.name)) throw new ModelError(`two layers are named ${layer.name}`, { layer: layer.name });
      used.add(layer.name);
      return layer.name;
    }
    // Keras names the operation nodes of its own mask bookkeeping after their op (a masked merge's
    // `concatenate`), and refuses a model where a layer has such a name too.
    const base = classToSnake(layer.className) + (MASK_OP_NAMES.has(classToSnake(layer.className)) ? "_layer" : "");
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
}

/** Layers feeding `layer`'s call, in the order they appear. */
function parents(layer: Layer): Layer[] {
  const found: Layer[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof SymbolicTensor) found.push(v.layer);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === "object" && v !== null) Object.values(v).forEach(walk);
  };
  if (layer.inbound) walk([layer.inbound.args, layer.inbound.kwargs]);
  return found;
}

/** Options of {@link model}. */
export interface ModelOptions {
  inputs: SymbolicTensor | SymbolicTensor[];
  outputs: SymbolicTensor | SymbolicTensor[];
  name?: string;
}

/**
 * A functional model's Keras 3 config, like `keras.Model(inputs, outputs)` / `tf.model(...)`: checked
 * against protocol/layers.json, ready for `bridge.model(...)`.
 * @throws {ModelError} for an output that does not depend on the given inputs, or a bad layer.
 */
export function model({ inputs, outputs, name = "model" }: ModelOptions): KerasModelConfig {
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const order: Layer[] = [];
  const visiting = new Set<Layer>();
  const visit = (layer: Layer): void => {
    if (order.includes(layer)) return;
    if (visiting.has(layer)) throw new ModelError(`the model's graph has a cycle at ${layer.name ?? layer.className}`);
    visiting.add(layer);
    if (layer.className === "InputLayer" && !ins.some((t) => t.layer === layer)) {
      throw new ModelError(`an output depends on an input that is not in inputs (${layer.name ?? "unnamed"})`);
    }
    if (layer.className !== "InputLayer" && !layer.inbound) throw new ModelError(`layer ${layer.name ?? layer.className} is used but never applied`);
    parents(layer).forEach(visit);
    order.push(layer);
  };
  ins.forEach((t) => visit(t.layer));
  outs.forEach((t) => visit(t.layer));
  const nameOf = uniqueNamer();
  const names = new Map(order.map((l) => [l, nameOf(l)]));
  const history = (t: SymbolicTensor): KerasHistory => [names.get(t.layer)!, 0, t.index];
  // Keras revives each reference as a placeholder KerasTensor, then swaps in the real tensor named by
  // keras_history: the placeholder's shape and dtype are never used, so none are inferred here.
  const ref = (t: SymbolicTensor): KerasTensorRef => ({ class_name: "__keras_tensor__", config: { shape: [], dtype: "float32", keras_history: history(t) } });
  const layers = order.map((l) => l.toEntry(names.get(l)!, ref));
  return checkModelConfig({
    module: "keras.src.models.functional",
    class_name: "Functional",
    registered_name: "Functional",
    config: { name, trainable: true, layers, input_layers: ins.map(history), output_layers: outs.map(history) },
  });
}

/** Options of {@link sequential}. */
export interface SequentialOptions {
  /** Input shape without the batch dimension. */
  inputShape: (number | null)[];
  inputDtype?: "float32" | "int32" | "int64";
  layers: Layer[];
  name?: string;
}

/** A Sequential model's Keras 3 config, like `keras.Sequential([...])` / `tf.sequential(...)`. */
export function sequential({ inputShape, inputDtype = "float32", layers, name = "sequential" }: SequentialOptions): KerasModelConfig {
  const nameOf = uniqueNamer();
  const first = new Layer("InputLayer", { batchShape: [null, ...inputShape], dtype: inputDtype });
  const entries = [first, ...layers].map((l) => l.toEntry(nameOf(l)));
  return checkModelConfig({ module: "keras", class_name: "Sequential", registered_name: null, config: { name, trainable: true, layers: entries } });
}

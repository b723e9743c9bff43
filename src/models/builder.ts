import { ModelError } from "../errors.js";
import type { KerasHistory, KerasLayerConfig, KerasModelConfig, KerasTensorRef } from "./config.js";
import { LAYER_RULES, MASK_OP_CLASSES, checkModelConfig } from "./schema.js";

/**
 * A symbolic tensor of a model being described: which layer made it, which of its outputs it is, and
 * which call of the layer made it (a shared layer's second call is call 1).
 */
export class SymbolicTensor {
  constructor(
    readonly layer: Layer,
    readonly index: number,
    readonly call = 0,
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
  /** Each call's arguments, in call order: more than one for a shared layer. @internal */
  readonly calls: { args: unknown[]; kwargs: Record<string, unknown> }[] = [];
  name: string | undefined;

  constructor(
    readonly className: string,
    args: Record<string, unknown>,
  ) {
    const rule = LAYER_RULES[className];
    if (!rule && new.target === Layer) throw new ModelError(`layer class ${className} is not supported`, { problems: [{ layer: "?", class: className, reason: "tfbridge's builder has no factory for it" }] });
    const { name, ...rest } = args as { name?: string };
    this.name = name;
    this.config = {};
    for (const [key, value] of Object.entries(rest)) {
      if (value === undefined) continue;
      const snake = camelToSnake(key);
      const argRule = rule?.args[snake];
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
    const kwargs: Record<string, unknown> = {};
    for (const [keras, option] of Object.entries(CALL_KWARGS)) if (options[option] !== undefined) kwargs[keras] = options[option];
    this.calls.push({ args: [inputs], kwargs });
    return Array.from({ length: this.outputCount(kwargs) }, (_, i) => new SymbolicTensor(this, i, this.calls.length - 1));
  }

  /** Keras's node index of the k-th call a model makes of this layer in the model's `output_layers`. @internal */
  kerasNode(k: number): number {
    return k;
  }

  /** How many tensors one call returns. @internal */
  protected outputCount(kwargs: Record<string, unknown>): number {
    return outputCount(this.className, this.config, kwargs);
  }

  /** The layer's entry without its calls. @internal */
  protected entryBody(name: string): KerasLayerConfig {
    const module = LAYER_RULES[this.className]!.module;
    return { module: module ?? "keras.layers", class_name: this.className, config: { name, ...this.config }, registered_name: module ? this.className : null };
  }

  /** The layer's entry in a Keras 3 config, with the calls the model makes (`calls`, by index; default all). @internal */
  toEntry(name: string, refs?: (t: SymbolicTensor) => KerasTensorRef, calls: readonly number[] = this.calls.map((_, i) => i)): KerasLayerConfig {
    const entry = this.entryBody(name);
    if (refs) {
      const serialize = (v: unknown): unknown => (v instanceof SymbolicTensor ? refs(v) : Array.isArray(v) ? v.map(serialize) : v);
      entry.name = name;
      entry.inbound_nodes = calls.map((i) => this.calls[i]!).map((call) => ({ args: call.args.map(serialize), kwargs: Object.fromEntries(Object.entries(call.kwargs).map(([k, v]) => [k, serialize(v)])) }));
    }
    return entry;
  }
}

/** A functional model called as a layer: see {@link modelLayer}. */
class NestedModel extends Layer {
  constructor(private readonly model: KerasModelConfig) {
    super("Functional", { name: model.config.name });
  }

  /** Keras counts a nested model's own construction as its node 0, so its first call is node 1. */
  override kerasNode(k: number): number {
    return k + 1;
  }

  protected override outputCount(): number {
    return (this.model.config.output_layers as unknown[]).length;
  }

  protected override entryBody(name: string): KerasLayerConfig {
    return { module: "keras.src.models.functional", class_name: "Functional", config: { ...structuredClone(this.model.config), name }, registered_name: "Functional" };
  }
}

/**
 * A functional model (from {@link model}) as a layer of another, like calling a Keras model on a tensor
 * (`base(x)`: a transfer-learning base under a new head). Call it with {@link Layer.apply} like any
 * layer, more than once to share it; its layers are named by path in the twin and parity (`base/dense`).
 * @throws {ModelError} for a Sequential model (describe it with {@link model} instead).
 */
export function modelLayer(config: KerasModelConfig): Layer {
  if (config.class_name !== "Functional") throw new ModelError(`modelLayer takes a functional model from model(); got ${config.class_name}`);
  return new NestedModel(config);
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

/** The tensors a call takes (arguments and keyword arguments), in the order they appear. */
function callInputs(call: { args: unknown[]; kwargs: Record<string, unknown> }): SymbolicTensor[] {
  const found: SymbolicTensor[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof SymbolicTensor) found.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === "object" && v !== null) Object.values(v).forEach(walk);
  };
  walk([call.args, call.kwargs]);
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
  // Depth first over calls, not layers: a shared layer may take its own earlier output (d(d(x))).
  const order: Layer[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const ids = new Map<Layer, number>();
  const visit = (t: SymbolicTensor): void => {
    const { layer, call } = t;
    if (!ids.has(layer)) ids.set(layer, ids.size);
    const key = `${ids.get(layer)}:${call}`;
    if (done.has(key)) return;
    if (visiting.has(key)) throw new ModelError(`the model's graph has a cycle at ${layer.name ?? layer.className}`);
    visiting.add(key);
    if (layer.className === "InputLayer" && !ins.some((i) => i.layer === layer)) {
      throw new ModelError(`an output depends on an input that is not in inputs (${layer.name ?? "unnamed"})`);
    }
    if (layer.className !== "InputLayer") {
      if (layer.calls.length === 0) throw new ModelError(`layer ${layer.name ?? layer.className} is used but never applied`);
      callInputs(layer.calls[call]!).forEach(visit);
    }
    done.add(key);
    if (!order.includes(layer)) order.push(layer);
  };
  ins.forEach(visit);
  outs.forEach(visit);
  const nameOf = uniqueNamer();
  const names = new Map(order.map((l) => [l, nameOf(l)]));
  // The calls this model makes of each layer, in call order: a layer also called outside it keeps only these (Keras renumbers them too).
  const callsOf = new Map(order.map((l) => [l, l.calls.map((_, i) => i).filter((i) => done.has(`${ids.get(l)}:${i}`))]));
  const callIndex = (t: SymbolicTensor) => (t.layer.className === "InputLayer" ? 0 : callsOf.get(t.layer)!.indexOf(t.call));
  // A model's inputs and outputs count a nested model's calls from 1 (Keras's get_tensor_config), the
  // layers' inbound nodes from 0 (serialize_node).
  const history = (t: SymbolicTensor): KerasHistory => [names.get(t.layer)!, t.layer.kerasNode(callIndex(t)), t.index];
  // Keras revives each reference as a placeholder KerasTensor, then swaps in the real tensor named by
  // keras_history: the placeholder's shape and dtype are never used, so none are inferred here.
  const ref = (t: SymbolicTensor): KerasTensorRef => ({ class_name: "__keras_tensor__", config: { shape: [], dtype: "float32", keras_history: [names.get(t.layer)!, callIndex(t), t.index] } });
  const layers = order.map((l) => l.toEntry(names.get(l)!, ref, callsOf.get(l)));
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

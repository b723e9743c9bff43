import { TfjsUnsupportedModelError } from "../models/refusal.js";
import { type KerasHistory, type KerasLayerConfig, type KerasModelConfig, isTensorRef } from "../models/config.js";
import { ACTIVATIONS, LAYER_RULES, isOperation, operationRule } from "../models/schema.js";
import { type CallTensor, type LeafCall, callTensorName, flattenModel } from "./flatten.js";
import { TFBRIDGE_OPERATION, kerasCustomClass } from "../tfjs-layers/index.js";
import { translateCall } from "./call-arguments.js";

/** A layer in TF.js's (Keras 2) topology format: inbound nodes as `[[layer, node, tensor, kwargs], …]`. */
export interface TfjsLayerEntry {
  class_name: string;
  config: Record<string, unknown>;
  name: string;
  inbound_nodes: [string, number, number, Record<string, unknown>][][];
}

/** A layer as a TF.js model JSON nests it: class and config (a wrapper's inner layer in `config.layer`). */
export interface TfjsLayerConfig {
  class_name: string;
  config: Record<string, unknown>;
}

/** Each layer and, depth first, the layers it wraps (Bidirectional's and TimeDistributed's `layer`). */
export function* withWrapped(entry: TfjsLayerConfig): Generator<TfjsLayerConfig> {
  yield entry;
  const inner = entry.config.layer as TfjsLayerConfig | undefined;
  if (inner && typeof inner === "object" && "class_name" in inner) yield* withWrapped(inner);
}

/** The `modelTopology` that TF.js 4.22's `tf.models.modelFromJSON` / `tf.loadLayersModel` read. */
export interface TfjsTopology {
  class_name: "Model";
  config: { name: string; layers: TfjsLayerEntry[]; input_layers: KerasHistory[]; output_layers: KerasHistory[] };
  keras_version: string;
  backend: "tensorflow";
}

const ACTIVATION_KEYS = ["activation", "recurrent_activation"];
const ZEROS = { class_name: "Zeros", config: {} };
/** Arguments TF.js has no use for, or spells differently: dropped once the schema has checked them. */
const DROPPED = new Set(["dtype", "quantization_config", "groups", "synchronized", "renorm", "rms_scaling", "backward_layer", "optional", "ragged"]);

/** A dropped argument that tfbridge's own class reads: a grouped Conv2D's `groups` (TF.js's classes have none). */
const keptForTfbridge = (key: string, value: unknown): boolean => key === "groups" && value !== 1;

/**
 * One layer's config in TF.js's dialect: Keras 3 activation names mapped to the TF.js activation
 * that computes the same function, arguments that only concern training dropped (weights are set
 * afterwards), wrappers translated recursively, and the classes TF.js lacks swapped for tfbridge's.
 */
function translateLayer(entry: KerasLayerConfig, reasons: { layer: string; reason: string }[]): { className: string; config: Record<string, unknown> } {
  const cls = entry.class_name;
  const name = String(entry.config.name);
  const rule = LAYER_RULES[cls]!;
  const config: Record<string, unknown> = { name, trainable: entry.config.trainable ?? true };
  if (cls === "InputLayer") {
    if (entry.config.dtype === "float64") reasons.push({ layer: name, reason: "float64: TF.js layers compute in float32" });
    // TF.js has no int64 tensors: its model takes the ids as int32 (the twin checks each fits; see tfjs/inputs.ts).
    const dtype = entry.config.dtype === "int64" ? "int32" : entry.config.dtype;
    return { className: "InputLayer", config: { name, batch_input_shape: entry.config.batch_shape, dtype, sparse: false } };
  }
  const policy = entry.config.dtype as { config?: { name?: string } } | string | undefined;
  if ((typeof policy === "object" ? policy?.config?.name : policy) === "float64") reasons.push({ layer: name, reason: "float64: TF.js layers compute in float32" });
  for (const [key, value] of Object.entries(entry.config)) {
    // An inert argument (of a layer that is the identity at inference) changes nothing TF.js computes.
    if (!(key in rule.args) || (DROPPED.has(key) && !keptForTfbridge(key, value)) || rule.args[key]!.type === "inert") continue;
    if (ACTIVATION_KEYS.includes(key)) config[key] = ACTIVATIONS[value as string];
    else if (rule.args[key]!.type === "layer") config[key] = wrapped(value as KerasLayerConfig, reasons);
    else config[key] = value;
  }
  config.dtype = "float32";
  // The Python model's weights replace whatever TF.js initializes, so it initializes zeros: its
  // Orthogonal (an LSTM's recurrent kernel) factors a matrix per layer, seconds for a large one.
  for (const key of Object.keys(entry.config)) if (key.endsWith("_initializer")) config[key] = ZEROS;
  if (cls === "Bidirectional") {
    // Keras 3 forces zero_output_for_mask = return_sequences on both directions (bidirectional.py).
    const inner = (config.layer as { config: Record<string, unknown> }).config;
    inner.zero_output_for_mask = inner.return_sequences;
  }
  return { className: (kerasCustomClass(cls, entry.config) ?? rule.tfjs)!, config };
}

/**
 * An operation node as a TfbridgeOperation layer: what to compute, the call's arguments with
 * `{input: i}` where its i-th distinct input tensor goes, and the operation's config. Each tensor is
 * an input once: TF.js's executor disposes a tensor listed twice in one call too early. Written
 * without snake_case keys, which TF.js's loader would camel-case (a GetItem slice is `{start, stop, step}`).
 */
function translateOperation(call: LeafCall, name: string): { className: string; config: Record<string, unknown>; inputs: CallTensor[] } {
  const inputs: CallTensor[] = [];
  let next = 0;
  const template = (v: unknown): unknown => {
    if (isTensorRef(v)) {
      const t = call.inputs[next++]!;
      const known = inputs.findIndex((u) => u.call === t.call && u.index === t.index);
      return { input: known >= 0 ? known : inputs.push(t) - 1 };
    }
    if (Array.isArray(v)) return v.map(template);
    if (typeof v === "object" && v !== null && (v as { class_name?: unknown }).class_name === "__slice__") {
      const { start = null, stop = null, step = null } = (v as { config: Record<string, number | null> }).config;
      return { start, stop, step };
    }
    return v;
  };
  const args = call.args.map(template);
  const { name: _, ...options } = call.entry.config;
  return { className: TFBRIDGE_OPERATION, config: { name, compute: operationRule(call.entry)!.compute, template: args, options }, inputs };
}

function wrapped(inner: KerasLayerConfig, reasons: { layer: string; reason: string }[]) {
  const { className, config } = translateLayer(inner, reasons);
  return { class_name: className, config };
}

/** A call's TF.js layer name: `@` (the worker's mark of a shared layer's k-th call) is not a character TF.js allows in names. */
export const tfjsLayerName = (call: string): string => call.replace(/@(\d+)/g, "-$1");

/** A model's TF.js topology and what ties it to the worker's names and weights. */
export interface TfjsGraph {
  topology: TfjsTopology;
  /** The worker's name of a nested model's output (`base`, `base@1:1`) → the TF.js tensor (`base/dense`) that is it. */
  aliases: Record<string, string>;
  /** Per top-level Keras layer with weights, in its weight order: the TF.js layers that take them (a shared layer's copies together). */
  weightLayers: Record<string, string[][]>;
}

/** The TF.js tensor key (`layer` or `layer:i`, what the twin keys outputs by) of a worker's tensor name. */
export function tfjsTensorKey(name: string, aliases: Readonly<Record<string, string>>): string {
  return Object.hasOwn(aliases, name) ? aliases[name]! : tfjsLayerName(name);
}

/**
 * Translates a checked Keras 3 model config (see checkModelConfig) into the topology TF.js 4.22 reads:
 * `batch_shape` → `batch_input_shape`, DTypePolicy objects → "float32", inbound nodes from Keras 3's
 * `__keras_tensor__`/`keras_history` form to `[[layer, node, tensor, kwargs]]`, a Sequential model as
 * the equivalent functional graph, Keras 3's mask operation nodes dropped (TF.js derives the same
 * masks from Embedding(mask_zero) and Masking by itself), nested models expanded into their layers
 * (`base/conv`), and each call of a shared layer a layer of its own with the same weights (`dense-1`):
 * TF.js's loader numbers a shared layer's calls in the order it manages to run them, not as the file
 * lists them, so one layer per call is the form every loader reads the same way.
 * @throws {TfjsUnsupportedModelError} listing every layer TF.js cannot compute as Keras does.
 */
export function toTfjsGraph(model: KerasModelConfig): TfjsGraph {
  const reasons: { layer: string; reason: string }[] = [];
  const flat = flattenModel(model);
  const ref = (t: CallTensor): [string, number, number, Record<string, unknown>] => [tfjsLayerName(t.call), 0, t.index, {}];
  const layers: TfjsLayerEntry[] = flat.inputs.map((entry) => {
    const { className, config } = translateLayer(entry, reasons);
    return { class_name: className, config, name: String(entry.config.name), inbound_nodes: [] };
  });
  const named = new Map<string, string>();
  for (const call of flat.calls) {
    const name = tfjsLayerName(call.call);
    const other = named.get(name);
    if (other !== undefined) reasons.push({ layer: call.call, reason: `its TF.js name ${name} is also the TF.js name of ${other}; rename one of the layers` });
    named.set(name, call.call);
    // A layer with `call` rules (attention) has its call arguments checked by the schema and translated below.
    for (const [key, value] of LAYER_RULES[call.entry.class_name]?.call ? [] : Object.entries(call.kwargs)) {
      if (key !== "mask" && key !== "training" && key !== "initial_state" && value !== null && value !== undefined) {
        reasons.push({ layer: call.call, reason: `call argument ${key} has no TF.js counterpart` });
      }
    }
    const called = isOperation(call.entry) ? null : translateCall(call, reasons);
    const { className, config, inputs } = isOperation(call.entry)
      ? translateOperation(call, name)
      : { ...translateLayer({ ...call.entry, config: { ...call.entry.config, name } }, reasons), inputs: called?.inputs ?? call.inputs };
    layers.push({ class_name: className, config: called ? { ...config, ...called.config } : config, name, inbound_nodes: [inputs.map(ref)] });
  }
  if (reasons.length) throw new TfjsUnsupportedModelError(reasons);
  const aliases = Object.fromEntries(Object.entries(flat.aliases).map(([name, t]) => [name, callTensorName({ call: tfjsLayerName(t.call), index: t.index })]));
  const weightLayers = Object.fromEntries(
    Object.entries(flat.weightPaths).map(([layer, paths]) => [layer, paths.map((path) => flat.calls.filter((c) => c.path === path).map((c) => tfjsLayerName(c.call)))]),
  );
  const topology: TfjsTopology = {
    class_name: "Model",
    config: {
      name: String(model.config.name ?? "model"),
      layers,
      input_layers: flat.inputs.map((e) => [String(e.config.name), 0, 0]),
      output_layers: flat.outputs.map((t) => [tfjsLayerName(t.call), 0, t.index]),
    },
    keras_version: "tfbridge",
    backend: "tensorflow",
  };
  return { topology, aliases, weightLayers };
}

/**
 * The topology TF.js 4.22 reads for a checked Keras 3 model config: what a converted model.json
 * carries. Nested models are expanded into their layers (`base/conv`) and each call of a shared layer
 * is a layer of its own (`dense-1`).
 * @throws {TfjsUnsupportedModelError} listing every layer TF.js cannot compute as Keras does.
 */
export function toTfjsTopology(model: KerasModelConfig): TfjsTopology {
  return toTfjsGraph(model).topology;
}

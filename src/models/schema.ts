import { ModelError, type ModelProblem } from "../errors.js";
import { readProtocolFile } from "../paths.js";
import { capped, classCounts } from "./refusal.js";
import { bindCall } from "./call-binding.js";
import { type KerasInboundNode, type KerasLayerConfig, type KerasModelConfig, historyList, isTensorRef } from "./config.js";

/** One argument's rule in protocol/layers.json. */
export type ArgRule = { required?: boolean; default?: unknown; nullable?: boolean } & (
  | { type: "int" | "float"; min: number; max: number }
  | { type: "bool" | "activation" | "shape" | "axis" | "numbers" | "inert" }
  | { type: "enum"; values: unknown[] }
  | { type: "ints"; length: number; min: number; max: number }
  | { type: "pairs"; length: number; min: number; max: number }
  | { type: "layer"; classes: string[] }
  | { type: "const"; value: unknown }
  | { type: "tensor" | "mask" }
  | { type: "tensors"; min: number; max: number }
);

/** One supported layer class: its family, the TF.js class that builds it, its arguments. */
export interface LayerRule {
  family: string;
  /** TF.js's own class for it; null where TF.js has none (tfbridge's tfjs-layers bring one). */
  tfjs: string | null;
  args: Record<string, ArgRule>;
  weights?: string[];
  /** Where Keras 3 finds a class that is not in `keras.layers` (ConvNeXt's LayerScale). */
  module?: string;
  /** `identity` for layers that do nothing at inference (dropout, noise). */
  inference?: "identity";
  /**
   * The layer's call arguments in its `call` signature's order, for layers whose calls take more
   * than tensors and a mask (attention: key, attention_mask, use_causal_mask…); checked per call.
   */
  call?: Record<string, ArgRule>;
}

interface LayersFile {
  activations: Record<string, string>;
  dtypePolicies: { values: string[] };
  inert: string[];
  maskOps: { module: string; classes: string[]; otherModules?: Record<string, string[]> };
  operations: Record<string, Record<string, OperationRule>>;
  layers: Record<string, LayerRule>;
}

/** One operation node class the TF.js twin computes (layers.json `operations`). */
export interface OperationRule {
  /** The computation tfbridge's TfbridgeOperation runs for it (tfjs-layers/operation.ts). */
  compute: string;
  args: Record<string, ArgRule>;
}

const file = readProtocolFile<LayersFile>("layers.json");
const withoutComments = <T>(o: Record<string, T>) => Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith("$"))) as Record<string, T>;

/** The supported layers, from protocol/layers.json (the Python worker reads the same file). */
export const LAYER_RULES: Readonly<Record<string, LayerRule>> = file.layers;
/** Keras 3 activation name → the TF.js activation that computes the same function. */
export const ACTIVATIONS: Readonly<Record<string, string>> = withoutComments(file.activations);
/** Per module, the classes of layers.json maskOps. */
const MASK_OPS: Record<string, Set<string>> = Object.fromEntries(
  Object.entries({ [file.maskOps.module]: file.maskOps.classes, ...file.maskOps.otherModules }).map(([module, classes]) => [module, new Set(classes)]),
);

/** Every class of layers.json maskOps, whichever module. */
export const MASK_OP_CLASSES: readonly string[] = [...new Set(Object.values(MASK_OPS).flatMap((classes) => [...classes]))];

/** Is `entry` of a class Keras 3 writes for its mask computations (layers.json maskOps)? */
function isMaskOpClass(entry: KerasLayerConfig | null | undefined): boolean {
  return !!entry && typeof entry.module === "string" && Object.hasOwn(MASK_OPS, entry.module) && MASK_OPS[entry.module]!.has(entry.class_name);
}

/** The operation node's rule (layers.json `operations`), or undefined when the twin has none. */
export function operationRule(entry: KerasLayerConfig): OperationRule | undefined {
  return typeof entry.module === "string" ? file.operations[entry.module]?.[entry.class_name] : undefined;
}

/** Is `entry` an operation node (`x + y`, `keras.ops.*`) rather than a layer? */
export const isOperation = (entry: KerasLayerConfig): boolean => typeof entry.module === "string" && entry.module.startsWith("keras.src.ops.");

/**
 * One call's tensor arguments split by what they are to the layer: `masks` (its `mask` keyword, and a
 * `call` rule's mask arguments such as MultiHeadAttention's `query_mask`) and `values` (the rest).
 */
function callArguments(entry: KerasLayerConfig, node: KerasInboundNode): { values: unknown[]; masks: [string, unknown][] } {
  const call = LAYER_RULES[entry.class_name]?.call;
  if (!call) return { values: [node.args, ...Object.entries(node.kwargs ?? {}).filter(([k]) => k !== "mask").map(([, v]) => v)], masks: [["mask", node.kwargs?.["mask"] ?? null]] };
  const { given } = bindCall(node, Object.keys(call));
  const entries = Object.entries(given);
  return { values: entries.filter(([k]) => call[k]?.type !== "mask").map(([, v]) => v), masks: entries.filter(([k]) => call[k]?.type === "mask") };
}

/**
 * The operation nodes of a model's graph that only compute masks: of a maskOps class, and whose
 * outputs reach nothing but mask arguments and other such nodes. TF.js derives the same masks by
 * itself, so the twin drops them; one whose output is a value (a user's `ops.concatenate`) is not.
 */
export function maskOnlyOperations(model: KerasModelConfig): Set<string> {
  const layers = model.config.layers;
  const only = new Set(layers.filter(isMaskOpClass).map((e) => String(e.config.name)));
  for (const ref of historyList(model.config.output_layers)) only.delete(ref[0]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const entry of layers) {
      if (!entry || only.has(String(entry.config.name))) continue;
      for (const node of entry.inbound_nodes ?? []) {
        for (const name of refs(callArguments(entry, node).values)) changed = only.delete(name) || changed;
      }
    }
  }
  return only;
}
const INERT = new Set(file.inert);
/** Layer dtype policies accepted; float64 runs in Python only (the TF.js twin refuses it). */
export const DTYPE_POLICIES: readonly string[] = file.dtypePolicies.values;
const models = readProtocolFile<{ modelClasses: string[]; modelModules: Record<string, string>; codeLayers: Record<string, string>; onnxOpsets: { min: number; max: number; default: number } }>("models.json");
/** The model classes of Keras 3 configs, from protocol/models.json (the Python worker reads the same file). */
export const MODEL_CLASSES: readonly string[] = models.modelClasses;
/** Where Keras 3 finds each class when a hand-written config leaves `module` out. */
export const MODEL_MODULES: Readonly<Record<string, string>> = models.modelModules;
/** Layers refused because they run code stored in the model, with the reason given. */
export const CODE_LAYERS: Readonly<Record<string, string>> = models.codeLayers;
/** The ONNX opsets an export may ask for (tf2onnx writes these), and the one it gets unless it asks; the worker checks the same. */
export const ONNX_OPSETS: Readonly<{ min: number; max: number; default: number }> = models.onnxOpsets;

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);
const show = (v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : JSON.stringify(v));

/** A finite number, or a non-empty list (nested to any depth) of them: Normalization's mean and variance. */
const isNumbers = (v: unknown): boolean => (typeof v === "number" && Number.isFinite(v)) || (Array.isArray(v) && v.length > 0 && v.every(isNumbers));

/** Why `value` breaks `rule`, or null. */
function argProblem(rule: ArgRule, value: unknown): string | null {
  if (value === null && rule.nullable) return null;
  switch (rule.type) {
    case "int":
    case "float":
      if (rule.type === "int" ? !isInt(value) : typeof value !== "number" || Number.isNaN(value)) {
        return `must be ${rule.type === "int" ? "an integer" : "a number"}, got ${show(value)}`;
      }
      return (value as number) < rule.min || (value as number) > rule.max ? `must be between ${rule.min} and ${rule.max}, got ${show(value)}` : null;
    case "bool":
      return typeof value === "boolean" ? null : `must be true or false, got ${show(value)}`;
    case "enum":
      return rule.values.includes(value) ? null : `must be one of ${rule.values.map(String).join(", ")}, got ${show(value)}`;
    case "activation":
      return typeof value === "string" && Object.hasOwn(ACTIVATIONS, value) ? null : `activation ${show(value)} is not supported (supported: ${Object.keys(ACTIVATIONS).join(", ")})`;
    case "ints":
      if (!Array.isArray(value) || value.length !== rule.length || !value.every(isInt)) return `must be a list of ${rule.length} integer(s), got ${show(value)}`;
      return value.every((v) => v >= rule.min && v <= rule.max) ? null : `values must be between ${rule.min} and ${rule.max}, got ${show(value)}`;
    case "pairs": {
      const pair = (v: unknown) => Array.isArray(v) && v.length === 2 && v.every(isInt);
      if (!Array.isArray(value) || value.length !== rule.length || !value.every(pair)) return `must be a list of ${rule.length} [before, after] integer pair(s), got ${show(value)}`;
      return (value as number[][]).flat().every((v) => v >= rule.min && v <= rule.max) ? null : `values must be between ${rule.min} and ${rule.max}, got ${show(value)}`;
    }
    case "shape":
      return Array.isArray(value) && value.every((v) => v === null || isInt(v)) ? null : `must be a list of integers (null for a free dimension), got ${show(value)}`;
    case "axis":
      return isInt(value) || (Array.isArray(value) && value.length > 0 && value.every(isInt)) ? null : `must be an integer or a list of integers, got ${show(value)}`;
    case "const":
      // A list constant (a Conv2DTranspose's dilation_rate [1, 1]) is compared by value.
      return value === rule.value || (Array.isArray(rule.value) && JSON.stringify(value) === JSON.stringify(rule.value)) ? null : `only ${show(rule.value)} is supported, got ${show(value)}`;
    case "numbers":
      return isNumbers(value) ? null : `must be a number or a (nested) list of numbers, got ${show(value)}`;
    case "layer":
    case "inert":
      return null;
    case "tensor":
      return isTensorRef(value) ? null : `must be a Keras tensor, got ${show(value)?.slice(0, 80)}`;
    case "tensors":
      if (!Array.isArray(value) || !value.every(isTensorRef)) return `must be a list of Keras tensors, got ${show(value)?.slice(0, 80)}`;
      return value.length < rule.min || value.length > rule.max ? `must be a list of ${rule.min} to ${rule.max} tensors, got ${value.length}` : null;
    case "mask":
      return value === null || isTensorRef(value) || (Array.isArray(value) && value.every((v) => v === null || isTensorRef(v))) ? null : `must be a Keras mask tensor (or a list of them), got ${show(value)?.slice(0, 80)}`;
  }
}

/**
 * Each call of a layer with `call` rules (layers.json): every argument known, of its type, given
 * once; the required ones present. Flags that differ between calls are the twin's to refuse (see
 * tfjs/call-arguments.ts): they become the TF.js layer's config.
 */
function checkCalls(entry: KerasLayerConfig, name: string, call: Record<string, ArgRule>, problems: ModelProblem[]): void {
  const cls = entry.class_name;
  for (const node of entry.inbound_nodes ?? []) {
    const { given, unknown, twice } = bindCall(node, Object.keys(call));
    for (const key of unknown) problems.push({ layer: name, class: cls, field: key, reason: `call argument ${key} is not supported for ${cls}` });
    for (const key of twice) problems.push({ layer: name, class: cls, field: key, reason: `call argument ${key} is given twice (by position and by name)` });
    for (const [key, rule] of Object.entries(call)) {
      if (!(key in given)) {
        if (rule.required) problems.push({ layer: name, class: cls, field: key, reason: `call argument ${key} is required` });
        continue;
      }
      const reason = argProblem(rule, given[key]);
      if (reason) problems.push({ layer: name, class: cls, field: key, reason: `call argument ${key} ${reason}` });
    }
  }
}

function dtypeName(dtype: unknown): unknown {
  return typeof dtype === "object" && dtype !== null ? (dtype as { config?: { name?: unknown } }).config?.name : dtype;
}

function checkArgs(entry: KerasLayerConfig, name: string, cls: string, args: Record<string, ArgRule>, problems: ModelProblem[]): KerasLayerConfig {
  const resolved = structuredClone(entry);
  resolved.module ??= "keras.layers";
  const out = resolved.config;
  for (const [key, value] of Object.entries(entry.config)) {
    const rule = args[key];
    if (!rule) {
      if (!INERT.has(key)) problems.push({ layer: name, class: cls, field: key, reason: `argument '${key}' is not supported for ${cls}` });
      continue;
    }
    if (rule.type === "layer") {
      if (value === null && rule.nullable) continue;
      out[key] = checkLayer(value, problems, rule.classes);
      continue;
    }
    const reason = argProblem(rule, value);
    if (reason) problems.push({ layer: name, class: cls, field: key, reason: `${key} ${reason}` });
  }
  for (const [key, rule] of Object.entries(args)) {
    if (key in entry.config) continue;
    if (rule.required) problems.push({ layer: name, class: cls, field: key, reason: `argument '${key}' is required` });
    else out[key] = structuredClone(rule.default);
  }
  return resolved;
}

/** Keras writes backward_layer as the forward layer run backwards; TF.js can build nothing else. */
function checkMirror(name: string, forward: KerasLayerConfig, backward: KerasLayerConfig, problems: ModelProblem[]): void {
  const strip = (c: Record<string, unknown>) =>
    JSON.stringify(Object.fromEntries(Object.entries(c).filter(([k]) => k !== "name" && k !== "go_backwards" && !INERT.has(k)).sort(([a], [b]) => a.localeCompare(b))));
  const same = forward.class_name === backward.class_name && strip(forward.config) === strip(backward.config);
  if (!same || forward.config.go_backwards === backward.config.go_backwards) {
    problems.push({ layer: name, class: "Bidirectional", field: "backward_layer", reason: "a backward_layer that is not the forward layer run backwards is not supported" });
  }
}

function checkLayer(entry: unknown, problems: ModelProblem[], allowed?: string[]): KerasLayerConfig | null {
  if (typeof entry !== "object" || entry === null || typeof (entry as KerasLayerConfig).config !== "object" || (entry as KerasLayerConfig).config === null) {
    problems.push({ layer: "?", class: "?", reason: `a layer must be an object with class_name and config, got ${show(entry)?.slice(0, 80)}` });
    return null;
  }
  const layer = entry as KerasLayerConfig;
  const cls = String(layer.class_name);
  const name = String(layer.config.name ?? layer.name ?? "?");
  if (cls in CODE_LAYERS) {
    problems.push({ layer: name, class: cls, reason: CODE_LAYERS[cls]! });
    return null;
  }
  if (isOperation(layer) && !allowed) return checkOperation(layer, name, problems);
  if (MODEL_CLASSES.includes(cls) && !allowed) return checkNestedModel(layer, name, problems);
  const rule = LAYER_RULES[cls];
  const registered = layer.registered_name;
  const custom = registered !== undefined && registered !== null && registered !== cls;
  if (!rule || custom || (allowed && !allowed.includes(cls))) {
    const where = allowed ? `inside this wrapper the TF.js twin takes only ${allowed.join(", ")}` : "tfbridge has no TF.js twin for it";
    problems.push({ layer: name, class: cls, reason: `layer class ${cls}${custom ? " (a custom or registered class)" : ""}: ${where}` });
    return null;
  }
  const dtype = dtypeName(layer.config.dtype);
  if (cls !== "InputLayer" && dtype !== undefined && dtype !== null && !DTYPE_POLICIES.includes(dtype as string)) {
    problems.push({ layer: name, class: cls, field: "dtype", reason: `dtype policy ${show(dtype)} is not supported; only ${DTYPE_POLICIES.join(", ")}` });
  }
  const resolved = checkArgs(layer, name, cls, rule.args, problems);
  if (rule.call && !allowed) checkCalls(layer, name, rule.call, problems);
  const { layer: forward, backward_layer: backward } = resolved.config as { layer?: KerasLayerConfig; backward_layer?: KerasLayerConfig };
  if (cls === "Bidirectional" && forward && backward) checkMirror(name, forward, backward, problems);
  return resolved;
}

/** The layer names of every serialized tensor inside an inbound node's args or kwargs. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (typeof value !== "object" || value === null) return [];
  const v = value as { class_name?: unknown; config?: { keras_history?: [string] } };
  if (v.class_name === "__keras_tensor__") return [String(v.config?.keras_history?.[0])];
  return Object.values(value).flatMap(refs);
}

const isNumber = (v: unknown) => typeof v === "number" && Number.isFinite(v);
const isSlice = (v: unknown) =>
  typeof v === "object" && v !== null && (v as { class_name?: unknown }).class_name === "__slice__" &&
  Object.values((v as { config?: object }).config ?? {}).every((x) => x === null || Number.isInteger(x));

/** Why one positional argument of an operation node is not one the twin computes with, or null. */
function operationArgProblem(cls: string, value: unknown): string | null {
  if (Array.isArray(value)) return cls === "GetItem" ? (value.every((v) => Number.isInteger(v) || isSlice(v)) ? null : "an index other than integers and slices") : value.map((v) => operationArgProblem(cls, v)).find((p) => p) ?? null;
  if (isTensorRef(value)) return value.config.dtype === undefined || value.config.dtype === "float32" ? null : `a ${value.config.dtype} tensor (the twin computes operations in float32)`;
  if (cls === "GetItem" && (Number.isInteger(value) || isSlice(value))) return null;
  return isNumber(value) ? null : `the argument ${show(value)?.slice(0, 60)}`;
}

/** An operation node (`x + y`, `keras.ops.*`) checked against layers.json `operations`; `mask`-only ones are dropped before. */
function checkOperation(entry: KerasLayerConfig, name: string, problems: ModelProblem[]): KerasLayerConfig | null {
  const cls = entry.class_name;
  const rule = operationRule(entry);
  if (!rule) {
    problems.push({ layer: name, class: cls, reason: `operation ${cls} (${entry.module}): the TF.js twin has no counterpart for it` });
    return null;
  }
  const resolved = checkArgs(entry, name, cls, rule.args, problems);
  for (const node of entry.inbound_nodes ?? []) {
    for (const value of node.args) {
      const problem = operationArgProblem(cls, value);
      if (problem) problems.push({ layer: name, class: cls, reason: `operation ${cls} with ${problem}: the TF.js twin computes it with float32 tensors and numbers only` });
    }
    for (const [key, value] of Object.entries(node.kwargs ?? {})) {
      if (value !== null && value !== undefined) problems.push({ layer: name, class: cls, field: key, reason: `operation ${cls} called with ${key}: not supported by the TF.js twin` });
    }
  }
  return resolved;
}

/** Every layer and operation of a model (or nested model) checked, mask-only operations passed through; problems appended. */
function checkLayers(model: KerasModelConfig, problems: ModelProblem[]): (KerasLayerConfig | null)[] {
  const maskOnly = maskOnlyOperations(model);
  checkMaskSources(model, maskOnly, problems);
  return model.config.layers.map((entry) => (entry && maskOnly.has(String(entry.config?.name)) ? structuredClone(entry) : checkLayer(entry, problems)));
}

/**
 * A mask argument (`mask`, or a `call` rule's mask such as `query_mask`) must be the output of Keras's
 * own mask bookkeeping (the masks it derives from Embedding, Masking and merges), as TF.js derives
 * exactly those itself: a mask the model passes from elsewhere (`Softmax(x, mask=some_input)`) would
 * be dropped, a silently different model.
 */
function checkMaskSources(model: KerasModelConfig, maskOnly: ReadonlySet<string>, problems: ModelProblem[]): void {
  for (const entry of model.config.layers) {
    if (!entry || maskOnly.has(String(entry.config?.name))) continue;
    for (const node of entry.inbound_nodes ?? []) {
      for (const [field, mask] of callArguments(entry, node).masks) {
        for (const name of refs(mask)) {
          if (!maskOnly.has(name)) problems.push({ layer: String(entry.config.name), class: entry.class_name, field, reason: `takes the output of ${name} as its ${field}: the TF.js twin derives masks only as Keras does from Embedding(mask_zero), Masking and merges` });
        }
      }
    }
  }
}

/**
 * A model used as a layer (a transfer-learning base): its layers checked as a model's, problems
 * named by path (`base/conv`). The TF.js twin expands it into its layers (tfjs/flatten.ts).
 */
function checkNestedModel(entry: KerasLayerConfig, name: string, problems: ModelProblem[]): KerasLayerConfig | null {
  const layers = entry.config.layers;
  if (!Array.isArray(layers) || layers.length === 0) {
    problems.push({ layer: name, class: entry.class_name, reason: "a nested model without layers" });
    return null;
  }
  const inner: ModelProblem[] = [];
  const resolved = checkLayers(entry as unknown as KerasModelConfig, inner);
  problems.push(...inner.map((p) => ({ ...p, layer: `${name}/${p.layer}` })));
  return { ...structuredClone(entry), config: { ...structuredClone(entry.config), layers: resolved } };
}

/**
 * The model config with every layer checked against the TF.js twin's layer schema
 * (protocol/layers.json) and every default made explicit: what the twin is built from (the worker
 * applies the same rules and reports the result as `handle.tfjs`). Python-side execution needs none of it.
 * @throws {ModelError} listing every layer and argument without a twin in `details.problems`.
 */
export function checkModelConfig(model: unknown, source?: string): KerasModelConfig {
  const where = source ?? "config";
  const m = model as KerasModelConfig;
  if (typeof m !== "object" || m === null || !MODEL_CLASSES.includes(m.class_name) || typeof m.config !== "object" || m.config === null) {
    const got = typeof m === "object" && m !== null ? m.class_name : typeof m;
    throw new ModelError(`${where}: not a Keras model config (expected class_name ${MODEL_CLASSES.join(", ")}, got ${show(got)})`, { file: source });
  }
  const layers = m.config.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw new ModelError(`${where}: the model has no layers`, { file: source });
  const problems: ModelProblem[] = [];
  const resolved = checkLayers(m, problems);
  if (m.class_name === "Sequential" && !resolved.some((e) => e?.class_name === "InputLayer")) {
    problems.push({ layer: "?", class: "Sequential", reason: "the Sequential model has no InputLayer, so its input shape is unknown" });
  }
  if (problems.length > 0) {
    const listed = problems.map((p) => `${p.layer} (${p.class}): ${p.reason}`).join("; ");
    throw new ModelError(capped(`${where}: no TF.js twin for ${classCounts(problems)}: ${listed}`), { file: source, problems });
  }
  const out: KerasModelConfig = { ...structuredClone(m), config: { ...structuredClone(m.config), layers: resolved as KerasLayerConfig[] } };
  out.module ??= MODEL_MODULES[m.class_name];
  if (m.class_name !== "Sequential") out.registered_name ??= "Functional";
  return out;
}

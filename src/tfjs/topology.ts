import { TfjsUnsupportedModelError } from "../models/refusal.js";
import { type KerasHistory, type KerasLayerConfig, type KerasModelConfig, historyList, isTensorRef } from "../models/config.js";
import { ACTIVATIONS, LAYER_RULES, isMaskOp } from "../models/schema.js";
import { kerasCustomClass } from "../tfjs-layers/index.js";
import { translateCalls } from "./call-arguments.js";

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
const DROPPED = new Set(["dtype", "quantization_config", "groups", "synchronized", "renorm", "rms_scaling", "keepdims", "backward_layer", "optional", "ragged"]);

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
    if (!(key in rule.args) || DROPPED.has(key)) continue;
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

function wrapped(inner: KerasLayerConfig, reasons: { layer: string; reason: string }[]) {
  const { className, config } = translateLayer(inner, reasons);
  return { class_name: className, config };
}

/**
 * Translates a checked Keras 3 model config (see checkModelConfig) into the topology TF.js 4.22 reads:
 * `batch_shape` → `batch_input_shape`, DTypePolicy objects → "float32", inbound nodes from Keras 3's
 * `__keras_tensor__`/`keras_history` form to `[[layer, node, tensor, kwargs]]`, a Sequential model as
 * the equivalent functional graph, and Keras 3's mask operation nodes dropped (TF.js derives the
 * same masks from Embedding(mask_zero) and Masking by itself).
 * @throws {TfjsUnsupportedModelError} listing every layer TF.js cannot compute as Keras does.
 */
export function toTfjsTopology(model: KerasModelConfig): TfjsTopology {
  const reasons: { layer: string; reason: string }[] = [];
  const entries = model.config.layers;
  const layers: TfjsLayerEntry[] = [];
  let inputLayers: KerasHistory[];
  let outputLayers: KerasHistory[];
  if (model.class_name === "Sequential") {
    let previous: string | null = null;
    for (const entry of entries) {
      const { className, config } = translateLayer(entry, reasons);
      layers.push({ class_name: className, config, name: String(entry.config.name), inbound_nodes: previous ? [[[previous, 0, 0, {}]]] : [] });
      previous = String(entry.config.name);
    }
    inputLayers = [[String(entries[0]!.config.name), 0, 0]];
    outputLayers = [[previous!, 0, 0]];
  } else {
    for (const entry of entries) {
      if (isMaskOp(entry)) continue;
      const { className, config } = translateLayer(entry, reasons);
      const name = String(entry.config.name);
      const calls = translateCalls(entry, reasons);
      if (calls) {
        layers.push({ class_name: className, config: { ...config, ...calls.config }, name, inbound_nodes: calls.inbound });
        continue;
      }
      const inbound = (entry.inbound_nodes ?? []).map((node) => {
        const refs: [string, number, number, Record<string, unknown>][] = [];
        const take = (v: unknown): void => {
          if (isTensorRef(v)) refs.push([...v.config.keras_history, {}]);
          else if (Array.isArray(v)) v.forEach(take);
        };
        node.args.forEach(take);
        for (const [key, value] of Object.entries(node.kwargs ?? {})) {
          if (key === "initial_state") take(value); // Keras 2 / TF.js: states follow the input in one list
          else if (key !== "mask" && key !== "training" && value !== null && value !== undefined) {
            reasons.push({ layer: name, reason: `call argument ${key} has no TF.js counterpart` });
          }
        }
        return refs;
      });
      layers.push({ class_name: className, config, name, inbound_nodes: inbound });
    }
    inputLayers = historyList(model.config.input_layers);
    outputLayers = historyList(model.config.output_layers);
  }
  if (reasons.length) throw new TfjsUnsupportedModelError(reasons);
  return {
    class_name: "Model",
    config: { name: String(model.config.name ?? "model"), layers, input_layers: inputLayers, output_layers: outputLayers },
    keras_version: "tfbridge",
    backend: "tensorflow",
  };
}

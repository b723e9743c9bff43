/**
 * What the worker says about a model it opened: the results of `model.load`, `model.build` and
 * `serve.load` (protocol/ops.json). Types only, so the op map (src/wire/ops.ts) can name them
 * without importing the model handle and the client above it.
 */
import type { ModelProblem } from "../errors.js";
import type { KerasModelConfig } from "./config.js";

/** A model input or output: its name, shape (null: any size) and dtype. */
export interface TensorInfo {
  name: string;
  shape: (number | null)[];
  dtype: string;
}

/**
 * One output of one layer (or operation node, e.g. `x + y`), in the order the graph computes them.
 * `name` is the layer's path: `layer` for its first output, `layer:i` for its i-th; `layer@k` for the
 * k-th call (k ≥ 1) of a layer called more than once (`dense`, `dense@1`); `model/layer` for a layer
 * inside a nested model (`mobilenetv2_1.00_64/Conv1`), whose own output follows its layers'.
 */
export interface LayerOutputInfo extends TensorInfo {
  /** The call that made it: `name` without `:i`. */
  layer: string;
  class: string;
}

/**
 * Whether the model has a TF.js twin (its layers are ones tfbridge translates, with arguments TF.js
 * computes as Keras does); if not, every layer without one. Python-side predict never needs it.
 */
export type TfjsSupport = { supported: true } | { supported: false; problems: ModelProblem[] };

/**
 * How the worker runs the model: a v1 Session over an explicit tf.Graph, eagerly, or as a tf.function.
 * `session-unoptimized` is the Session with TensorFlow's graph rewrites (Grappler, constant folding) off:
 * parity runs it to tell a rewrite of the graph from a kernel's own arithmetic.
 */
export type ModelMode = "session" | "session-unoptimized" | "eager" | "function";

/** What a run returns: the model's outputs, or every layer's output (named by its path, see {@link LayerOutputInfo}). */
export type ModelOutputs = "model" | "layers";

/** What the worker reports about a model it opened. */
export interface ModelInfo {
  handle: string;
  /**
   * With a TF.js twin, the Keras 3 config with every default explicit (what the twin is built from);
   * otherwise Keras's own config; null for a SavedModel directory (one opaque graph).
   */
  config: KerasModelConfig | null;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  layers: LayerOutputInfo[];
  weights: { layer: string; shapes: number[][] }[];
  /** The file it was loaded from, or null for a model built from a description. */
  source: string | null;
  tfjs: TfjsSupport;
}

/** What `model.onnx` wrote: the file, the opset and tools, and its outputs' names (layer names with `outputs: "layers"`). */
export interface OnnxExport {
  /** The file, absolute, on the worker's machine. */
  path: string;
  opset: number;
  /** tf2onnx's and onnx's versions in the worker's env. */
  tf2onnx: string;
  onnx: string;
  /** The ONNX graph's outputs, in order: the model's output names, or every layer output's name. */
  outputs: string[];
}

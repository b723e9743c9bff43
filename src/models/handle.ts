import type { TensorflowClient } from "../client.js";
import { ModelError } from "../errors.js";
import type { NDArray } from "../wire/ndarray.js";
import type { WorkerInfo } from "../worker/info.js";
import type { Reply, RequestOptions } from "../worker/replies.js";
import type { KerasModelConfig } from "./config.js";
import type { LayerOutputInfo, ModelInfo, ModelMode, ModelOutputs, OnnxExport, TensorInfo, TfjsSupport } from "./info.js";
import { TfjsUnsupportedModelError } from "./refusal.js";
import { refuseCode } from "./safety.js";

export type { LayerOutputInfo, ModelInfo, ModelMode, ModelOutputs, OnnxExport, TensorInfo, TfjsSupport };

/** A model's weights: per layer name, its arrays in Keras's own `layer.weights` order. */
export type ModelWeights = Record<string, NDArray<"float32">[]>;

/** Inputs in the model's input order, or by input name; one array for a one-input model. */
export type ModelInputs = NDArray | readonly NDArray[] | Readonly<Record<string, NDArray>>;

/** Every {@link ModelMode}, for checking a mode before it is sent. */
export const MODEL_MODES: readonly ModelMode[] = ["session", "session-unoptimized", "eager", "function"];

/** Options of {@link ModelHandle.predict}. */
export interface PredictOptions extends RequestOptions {
  /** Default `session`. */
  mode?: ModelMode;
  /** `model` (default): the model's outputs; `layers`: every layer's output, named by its path (see {@link LayerOutputInfo}). */
  outputs?: ModelOutputs;
}

/** What {@link ModelHandle.predict} gives back. */
export interface Prediction {
  /** By name (`layer` or `layer:i`); iterate {@link names} for their order. */
  outputs: Record<string, NDArray>;
  names: string[];
  mode: ModelMode;
  /** The run itself inside the worker, in milliseconds. */
  runMs: number;
}

/**
 * A model open on one worker: its config, inputs, outputs and layers, `predict`, and whether it has a
 * TF.js twin ({@link tfjs}). The worker caches its graphs and sessions until {@link dispose} (or `await using`).
 */
export class ModelHandle implements AsyncDisposable {
  private disposed = false;

  constructor(
    private readonly client: TensorflowClient,
    readonly info: ModelInfo,
  ) {}

  /**
   * The Keras 3 config: with every default explicit when the model has a TF.js twin, else Keras's own.
   * @throws {ModelError} for a SavedModel, which has none.
   */
  get config(): KerasModelConfig {
    if (!this.info.config) throw new ModelError(`${this.info.source}: a SavedModel is one graph without a Keras config or layers; load the .keras file for per-layer work`);
    return this.info.config;
  }
  get inputs(): TensorInfo[] {
    return this.info.inputs;
  }
  get outputs(): TensorInfo[] {
    return this.info.outputs;
  }
  get layers(): LayerOutputInfo[] {
    return this.info.layers;
  }
  /** Whether a TF.js twin can be built (parity, convert); if not, every layer without one. */
  get tfjs(): TfjsSupport {
    return this.info.tfjs;
  }

  /**
   * The resolved config the TF.js twin is built from.
   * @throws {TfjsUnsupportedModelError} listing every layer without a twin (the model still runs in Python).
   */
  twinConfig(): KerasModelConfig {
    const support = this.info.tfjs;
    if (!support.supported) throw new TfjsUnsupportedModelError(support.problems, this.info.source ?? this.info.config?.config.name ?? undefined);
    return this.config;
  }

  /** The inputs as a list in the model's order, checked by name, shape and dtype before sending. */
  orderInputs(inputs: ModelInputs): NDArray[] {
    return orderInputs(this.info.inputs, inputs);
  }

  /** Runs the model in the worker (a v1 Session by default) on `inputs`. */
  async predict(inputs: ModelInputs, options: PredictOptions = {}): Promise<Prediction> {
    this.checkOpen();
    const { mode = "session", outputs = "model", ...request } = options;
    const reply = await this.client.call(
      "model.predict",
      { handle: this.info.handle, mode, outputs },
      this.orderInputs(inputs),
      request,
    );
    return asPrediction(reply);
  }

  /** What the worker holding this model says about itself (versions, CPU, oneDNN state). */
  workerInfo(options?: RequestOptions): Promise<WorkerInfo> {
    return this.client.workerInfo(options);
  }

  /** The weights the model runs with, per layer in Keras's order: enough to build its twin elsewhere. */
  async weights(options?: RequestOptions): Promise<ModelWeights> {
    this.checkOpen();
    const reply = await this.client.call("model.weights", { handle: this.info.handle }, [], options);
    // Without a prototype: layers are named by the model's author (`toString`, `__proto__` are names too).
    const out: ModelWeights = Object.create(null) as ModelWeights;
    reply.names.forEach((name = "", i) => {
      const layer = name.slice(0, name.lastIndexOf("/"));
      (out[layer] ??= []).push(reply.arrays[i] as NDArray<"float32">);
    });
    return out;
  }

  /**
   * Writes the model as a Keras 3 `.keras` file on the worker's machine (Keras's own `model.save`),
   * e.g. to hand a model built with tfbridge's builder to `tfbridge convert` or Python.
   * @returns the file's absolute path. @throws {ModelError} if `path` exists or is not `.keras`.
   */
  async save(path: string, options?: RequestOptions): Promise<string> {
    this.checkOpen();
    const reply = await this.client.call("model.save", { handle: this.info.handle, path }, [], options);
    return reply.result.path;
  }

  /**
   * Writes the model as a SavedModel folder on the worker's machine (Keras's `model.export`, one
   * `serving_default` signature), which `tf.node.loadSavedModel` runs. @returns the folder's absolute path.
   * @throws {ModelError} if `path` exists.
   */
  async exportSavedModel(path: string, options?: RequestOptions): Promise<string> {
    this.checkOpen();
    const reply = await this.client.call("model.export", { handle: this.info.handle, path }, [], options);
    return reply.result.path;
  }

  /**
   * Writes the model as an ONNX file on the worker's machine (tf2onnx from the worker's tf.function; the
   * worker's env needs `tfbridge setup --onnx`). With `outputs: "layers"` every layer's output is an
   * ONNX output too, named as {@link layers} names it, for a per-layer proof.
   * @throws {ModelError} if `path` exists or does not end in `.onnx`, the ONNX tools are missing, an op
   * has no ONNX conversion (named, with its layer), or the opset is out of tf2onnx's range.
   */
  async exportOnnx(path: string, options: { outputs?: ModelOutputs; opset?: number } & RequestOptions = {}): Promise<OnnxExport> {
    this.checkOpen();
    const { outputs, opset, ...request } = options;
    const reply = await this.client.call("model.onnx", { handle: this.info.handle, path, ...(outputs ? { outputs } : {}), ...(opset !== undefined ? { opset } : {}) }, [], request);
    return reply.result;
  }

  /** Frees the model's graphs and sessions in the worker. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.client.call("model.dispose", { handle: this.info.handle });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private checkOpen(): void {
    if (this.disposed) throw new ModelError(`model ${this.info.handle} was disposed`);
  }
}

/** A predict's reply as its outputs by name. */
export function asPrediction(reply: Reply<{ mode: ModelMode; runMs: number }>): Prediction {
  const names = reply.names.map((n) => n ?? "");
  return { outputs: Object.fromEntries(names.map((n, i) => [n, reply.arrays[i]!])), names, mode: reply.result.mode, runMs: reply.result.runMs };
}

/**
 * `inputs` as a list in the order of `specs`, checked by name, shape and dtype before anything is sent.
 * @throws {ModelError} naming the input that is missing, unknown, or of the wrong shape or dtype.
 */
export function orderInputs(specs: readonly TensorInfo[], inputs: ModelInputs): NDArray[] {
  let list: NDArray[];
  if (Array.isArray(inputs)) list = [...(inputs as NDArray[])];
  else if (isNDArray(inputs)) list = [inputs];
  else {
    const byName = inputs as Record<string, NDArray>;
    const unknown = Object.keys(byName).filter((k) => !specs.some((s) => s.name === k));
    if (unknown.length) throw new ModelError(`no model input named ${unknown.join(", ")} (inputs: ${specs.map((s) => s.name).join(", ")})`, { input: unknown[0] });
    list = specs.map((s) => {
      const x = Object.hasOwn(byName, s.name) ? byName[s.name] : undefined;
      if (!x) throw new ModelError(`input ${s.name} is missing`, { input: s.name });
      return x;
    });
  }
  if (list.length !== specs.length) {
    throw new ModelError(`the model takes ${specs.length} input(s) (${specs.map((s) => s.name).join(", ")}), got ${list.length}`);
  }
  list.forEach((x, i) => {
    const spec = specs[i]!;
    if (!isNDArray(x)) throw new ModelError(`input ${spec.name} must be an NDArray`, { input: spec.name });
    // A SavedModel input of unknown rank has no shape to check here; the worker checks the rest.
    const fits = spec.shape === null || (x.shape.length === spec.shape.length && spec.shape.every((d, k) => d === null || d === x.shape[k]));
    if (!fits) throw new ModelError(`input ${spec.name} must have shape ${JSON.stringify(spec.shape)} (null: any), got ${JSON.stringify(x.shape)}`, { input: spec.name });
    if (x.dtype !== spec.dtype) throw new ModelError(`input ${spec.name} must be ${spec.dtype}, got ${x.dtype}`, { input: spec.name });
  });
  return list;
}

function isNDArray(value: unknown): value is NDArray {
  return typeof value === "object" && value !== null && "dtype" in value && "shape" in value && "data" in value;
}

/** Options of `bridge.model(...)`. */
export interface BuildOptions extends RequestOptions {
  /** Explicit weights per layer name, each list in Keras's `layer.weights` order. */
  weights?: ModelWeights;
  /** Without weights: initialize with Keras's own initializers from this seed. Default 0. */
  seed?: number;
}

/**
 * A model by description as the wire carries it (`model.build`, `model.run`, a served `{ config }`):
 * the config, checked for code before anything is sent; the weights flattened to arrays named
 * `layer/index`; and the seed, which only applies without weights.
 * @throws {ModelError} for a Lambda or custom class, or a config over the bounds.
 */
export function describedModel(config: KerasModelConfig, weights?: ModelWeights, seed?: number): { config: KerasModelConfig; weights: string[]; seed: number | null; arrays: NDArray[] } {
  refuseCode(config);
  const names: string[] = [];
  const arrays: NDArray[] = [];
  for (const [layer, list] of Object.entries(weights ?? {})) {
    list.forEach((a, i) => {
      names.push(`${layer}/${i}`);
      arrays.push(a);
    });
  }
  return { config, weights: names, seed: weights ? null : (seed ?? 0), arrays };
}

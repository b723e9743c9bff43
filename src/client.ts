import { SpecError } from "./errors.js";
import type { KerasModelConfig } from "./models/config.js";
import { MODEL_MODES, type ModelMode, type ModelWeights, type Prediction, asPrediction, describedModel } from "./models/handle.js";
import { LSTM_OUTPUTS, type LstmSpec, type ResolvedLstmSpec, checkLstmInput, lstmModel } from "./models/lstm-spec.js";
import type { NDArray } from "./wire/ndarray.js";
import type { OpCall, OpName, OpResult } from "./wire/ops.js";
import type { WorkerInfo } from "./worker/info.js";
import type { Reply, RequestOptions } from "./worker/replies.js";

/** Options of {@link TensorflowClient.runModel}. */
export interface RunModelOptions extends RequestOptions {
  /** Explicit weights per layer name, each list in Keras's `layer.weights` order. */
  weights?: ModelWeights;
  /** Without weights: Keras's own initializers, seeded from this. Default 0. */
  seed?: number;
  /** Default `session`. */
  mode?: ModelMode;
  /** `model` (default): the model's outputs; `layers`: every layer's output. */
  outputs?: "model" | "layers";
}

/** Options for {@link TensorflowClient.runLstm}. */
export interface LstmRunOptions extends RequestOptions {
  /** Default `session`: a v1 Session over an explicit tf.Graph, as the seed intended. */
  mode?: ModelMode;
}

/** What an LSTM run gives back. */
export interface LstmResult {
  /** [batch, units], or [batch, timesteps, units] with returnSequences. */
  output: NDArray<"float32" | "float64">;
  /** Final hidden and cell states, with returnState. */
  h?: NDArray<"float32" | "float64">;
  c?: NDArray<"float32" | "float64">;
  /** The spec with every default explicit, as the model was built from it. */
  spec: ResolvedLstmSpec;
  mode: ModelMode;
  /** How long the run itself took inside the worker (no transport, no encoding), in milliseconds. */
  runMs: number;
}

/**
 * The typed operations of wire format v1, on top of one `call`: shared by {@link Bridge} (one worker)
 * and {@link Pool} (many), so code written against one runs against the other.
 */
export abstract class TensorflowClient implements AsyncDisposable {
  /**
   * Sends one operation of wire format v1 (docs/wire.md; its arguments and result: src/wire/ops.ts)
   * and resolves with its reply.
   */
  abstract call<K extends OpName>(op: K, ...request: OpCall<K, RequestOptions>): Promise<Reply<OpResult<K>>>;

  /** Stops the worker(s); calls still in flight reject. Safe to call twice. */
  abstract close(): Promise<void>;

  /** What a worker says about itself: versions, its CPU's ISA extensions and oneDNN state (the `hello` op). */
  async workerInfo(options?: RequestOptions): Promise<WorkerInfo> {
    return (await this.call("hello", {}, [], options)).result;
  }

  /** Sends arrays to Python and back unchanged: the binary path's round trip. */
  async echo(arrays: readonly NDArray[], options?: RequestOptions): Promise<NDArray[]> {
    return (await this.call("echo", {}, arrays, options)).arrays;
  }

  /**
   * Runs a model given by its Keras 3 config and weights (or `seed`) on `inputs` (in the model's input
   * order), in one request: no
   * handle to keep, so any worker of a pool can answer it. The worker builds the model on the first
   * request with that description and keeps it (16 descriptions, least recently used dropped), so
   * repeats cost only the run. For per-layer work, parity or many runs, open it with `bridge.model`.
   * @throws {ModelError} for a Lambda or custom class (before anything is sent), a config Keras
   * refuses, weights of the wrong count or shape, or inputs that do not fit.
   */
  async runModel(config: KerasModelConfig, inputs: NDArray | readonly NDArray[], { weights, seed, mode = "session", outputs = "model", ...options }: RunModelOptions = {}): Promise<Prediction> {
    const list: readonly NDArray[] = Array.isArray(inputs) ? inputs : [inputs as NDArray];
    const { arrays, ...described } = describedModel(config, weights, seed);
    const reply = await this.call("model.run", { ...described, inputs: list.length, mode, outputs }, [...list, ...arrays], options);
    return asPrediction(reply);
  }

  /**
   * Runs the seed's LSTM that `spec` describes on `input` ([batch, timesteps, features]): the spec
   * becomes a one-layer model ({@link lstmModel}) run by {@link runModel}. The spec, weights and input
   * are checked here before anything is sent.
   * @throws {SpecError} for a bad spec, weights, input or mode; {@link PythonError} for a failure in Python.
   */
  async runLstm(spec: LstmSpec, input: NDArray, options: LstmRunOptions = {}): Promise<LstmResult> {
    const { mode = "session", ...request } = options;
    if (!MODEL_MODES.includes(mode)) throw new SpecError("mode", `must be one of ${MODEL_MODES.join(", ")}, got ${JSON.stringify(mode)}`);
    const { config, weights, resolved } = lstmModel(spec);
    checkLstmInput(resolved, input);
    const run = await this.runModel(config, input, { ...request, weights, seed: resolved.seed, mode });
    const out = run.outputs as Record<string, NDArray<"float32" | "float64">>;
    const result: LstmResult = { output: out[LSTM_OUTPUTS.output]!, spec: resolved, mode: run.mode, runMs: run.runMs };
    if (resolved.returnState) {
      result.h = out[LSTM_OUTPUTS.h]!;
      result.c = out[LSTM_OUTPUTS.c]!;
    }
    return result;
  }

  /**
   * Reads a NumPy `.npz` (or `.npy`) file on the worker's machine (`allow_pickle=False`: nothing is
   * unpickled) and returns its arrays by name.
   * @throws {ModelError} naming the file when it is missing or not NumPy's format.
   */
  async loadNpz(path: string, options?: RequestOptions): Promise<Record<string, NDArray>> {
    const reply = await this.call("npz.load", { path }, [], options);
    return Object.fromEntries(reply.names.map((n, i) => [n ?? `arr_${i}`, reply.arrays[i]!]));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

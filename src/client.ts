import { SpecError } from "./errors.js";
import { type LstmMode, type LstmSpec, type LstmWeights, type ResolvedLstmSpec, LSTM_MODES, checkLstmInput, checkLstmWeights, resolveLstmSpec } from "./lstm/spec.js";
import type { NDArray } from "./wire/ndarray.js";
import type { OpCall, OpName, OpResult } from "./wire/ops.js";
import type { WorkerInfo } from "./worker/info.js";
import type { Reply, RequestOptions } from "./worker/replies.js";

/** Options for {@link TensorflowClient.runLstm}. */
export interface LstmRunOptions extends RequestOptions {
  /** Default `session`: a v1 Session over an explicit tf.Graph, as the seed intended. */
  mode?: LstmMode;
  /** Also return the weights the layer ran with (seeded or explicit). */
  returnWeights?: boolean;
}

/** What an LSTM run gives back. */
export interface LstmResult {
  /** [batch, units], or [batch, timesteps, units] with returnSequences. */
  output: NDArray<"float32" | "float64">;
  /** Final hidden and cell states, with returnState. */
  h?: NDArray<"float32" | "float64">;
  c?: NDArray<"float32" | "float64">;
  /** With returnWeights. */
  weights?: LstmWeights;
  /** The spec with every default explicit, as the worker built it. */
  spec: ResolvedLstmSpec;
  mode: LstmMode;
  /** How long the run itself took inside the worker (no transport, no encoding), in milliseconds. */
  runMs: number;
}

const WEIGHT_NAMES = ["kernel", "recurrentKernel", "bias"] as const;

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
   * Builds the Keras LSTM that `spec` describes and runs it on `input` ([batch, timesteps, features]).
   * The spec is checked here before anything is sent; the worker checks it again.
   * @throws {SpecError} for a bad spec, weights or input; {@link PythonError} for a failure in Python.
   */
  async runLstm(spec: LstmSpec, input: NDArray, options: LstmRunOptions = {}): Promise<LstmResult> {
    const mode = options.mode ?? "session";
    if (!LSTM_MODES.includes(mode)) throw new SpecError("mode", `must be one of ${LSTM_MODES.join(", ")}, got ${JSON.stringify(mode)}`);
    const { resolved, names, arrays } = this.lstmArguments(spec);
    checkLstmInput(resolved, input);
    const reply = await this.call(
      "lstm.run",
      { spec: resolved, mode, weights: names, returnWeights: options.returnWeights ?? false },
      [input, ...arrays],
      options,
    );
    const named = new Map(reply.names.map((n, i) => [n, reply.arrays[i] as NDArray<"float32" | "float64">]));
    const { spec: used, runMs } = reply.result;
    const result: LstmResult = { output: named.get("output")!, spec: used, mode: reply.result.mode, runMs };
    if (named.has("h")) result.h = named.get("h")!;
    if (named.has("c")) result.c = named.get("c")!;
    if (options.returnWeights) {
      result.weights = { kernel: named.get("weights.kernel")!, recurrentKernel: named.get("weights.recurrentKernel")! };
      if (named.has("weights.bias")) result.weights.bias = named.get("weights.bias")!;
    }
    return result;
  }

  /**
   * Writes the layer `spec` describes as a TF2 SavedModel (signature `serving_default`: `input` →
   * `output`[, `h`, `c`]) into a new private temporary folder on the worker's machine; returns its path.
   * TF.js loads it with `tf.node.loadSavedModel` and runs it as one graph.
   */
  async exportLstm(spec: LstmSpec, options?: RequestOptions): Promise<string> {
    const { resolved, names, arrays } = this.lstmArguments(spec);
    return (await this.call("lstm.export", { spec: resolved, weights: names }, arrays, options)).result.path;
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

  /** The resolved spec and its explicit weights as the wire carries them; throws SpecError first. */
  private lstmArguments(spec: LstmSpec) {
    const resolved = resolveLstmSpec(spec);
    const names = spec.weights ? WEIGHT_NAMES.filter((n) => spec.weights![n] !== undefined) : [];
    if (spec.weights) checkLstmWeights(resolved, spec.weights);
    return { resolved, names, arrays: names.map((n) => spec.weights![n]!) };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

import { BridgeClosedError, SpecError } from "./errors.js";
import { PythonProxies } from "./python/proxies.js";
import { type LstmMode, type LstmSpec, type LstmWeights, type ResolvedLstmSpec, LSTM_MODES, checkLstmInput, checkLstmWeights, resolveLstmSpec } from "./spec/lstm.js";
import type { NDArray } from "./wire/ndarray.js";
import type { Reply, RequestOptions } from "./worker/connection.js";
import { Worker, type WorkerInfo, type WorkerOptions } from "./worker/worker.js";

/** Options for {@link Bridge.start}. */
export interface BridgeOptions extends WorkerOptions {
  /** Timeout applied to every request that does not set its own. Default 300 s; `Infinity` for none. */
  defaultTimeoutMs?: number;
}

/** Options for {@link Bridge.runLstm}. */
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
 * The entry point: a real CPython + TensorFlow worker behind a binary ZeroMQ channel.
 *
 * ```ts
 * await using bridge = await Bridge.start();
 * const { output } = await bridge.runLstm({ units: 32, inputShape: [10, 1] }, input);
 * ```
 */
export class Bridge implements AsyncDisposable {
  private closing: Promise<void> | null = null;
  private readonly proxies: PythonProxies;

  private constructor(
    private readonly worker: Worker,
    private readonly defaultTimeoutMs: number,
  ) {
    this.proxies = new PythonProxies(worker);
  }

  /** Starts a worker process and completes its handshake. */
  static async start(options: BridgeOptions = {}): Promise<Bridge> {
    return new Bridge(await Worker.start(options), options.defaultTimeoutMs ?? 300_000);
  }

  /**
   * Any Python object through pythonia proxies, in the same worker process as the data plane:
   * `const np = await bridge.python.import("numpy")`. NDArrays passed to proxied calls and
   * {@link PythonProxies.toNDArray} travel over the binary path.
   */
  get python(): PythonProxies {
    return this.proxies;
  }

  /** Versions and pid reported by the worker at start-up. */
  get info(): WorkerInfo {
    return this.worker.info;
  }

  /** The worker process's pid. */
  get pid(): number | undefined {
    return this.worker.pid;
  }

  /**
   * Sends one operation of wire format v1 (see docs/wire.md) and resolves with its reply.
   * The typed methods below are built on it.
   */
  call<R = Record<string, unknown>>(op: string, args: Record<string, unknown> = {}, arrays: readonly NDArray[] = [], options: RequestOptions = {}): Promise<Reply<R>> {
    if (this.closing) return Promise.reject(new BridgeClosedError());
    const timeoutMs = options.timeoutMs ?? (Number.isFinite(this.defaultTimeoutMs) ? this.defaultTimeoutMs : undefined);
    return this.worker.request<R>(op, args, arrays, { ...options, timeoutMs });
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
    const reply = await this.call<{ spec: ResolvedLstmSpec; mode: LstmMode; runMs: number }>(
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
    return (await this.call<{ path: string }>("lstm.export", { spec: resolved, weights: names }, arrays, options)).result.path;
  }

  /** The resolved spec and its explicit weights as the wire carries them; throws SpecError first. */
  private lstmArguments(spec: LstmSpec) {
    const resolved = resolveLstmSpec(spec);
    const names = spec.weights ? WEIGHT_NAMES.filter((n) => spec.weights![n] !== undefined) : [];
    if (spec.weights) checkLstmWeights(resolved, spec.weights);
    return { resolved, names, arrays: names.map((n) => spec.weights![n]!) };
  }

  /** Stops the worker and both channels; calls still in flight reject with BridgeClosedError. Safe to call twice. */
  close(): Promise<void> {
    const error = new BridgeClosedError();
    this.closing ??= this.proxies.close(error).then(() => this.worker.close(error));
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

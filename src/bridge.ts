import { TensorflowClient } from "./client.js";
import { BridgeClosedError } from "./errors.js";
import type { KerasModelConfig } from "./models/config.js";
import { type BuildOptions, ModelHandle, type ModelInfo, weightArrays } from "./models/handle.js";
import { checkModelConfig } from "./models/schema.js";
import { PythonProxies } from "./python/proxies.js";
import type { SharedArray } from "./link/shared-array.js";
import type { DType } from "./wire/dtypes.js";
import { type NDArray, zeros } from "./wire/ndarray.js";
import type { Reply, RequestOptions } from "./worker/replies.js";
import { type LinkKind, Worker, type WorkerInfo, type WorkerOptions } from "./worker/worker.js";

/** Options for {@link Bridge.start}. */
export interface BridgeOptions extends WorkerOptions {
  /** Timeout applied to every request that does not set its own. Default 300 s; `Infinity` for none. */
  defaultTimeoutMs?: number;
}

/**
 * The entry point: a real CPython + TensorFlow worker on this machine, reached over the local link
 * (a socket pair and shared memory) or, with `{ link: "zeromq" }`, a ZeroMQ socket.
 *
 * ```ts
 * await using bridge = await Bridge.start();
 * const { output } = await bridge.runLstm({ units: 32, inputShape: [10, 1] }, input);
 * ```
 */
export class Bridge extends TensorflowClient {
  private closing: Promise<void> | null = null;
  private readonly proxies: PythonProxies;

  private constructor(
    private readonly worker: Worker,
    private readonly defaultTimeoutMs: number,
  ) {
    super();
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

  /** Which link requests travel on: `local` (shared memory) or `zeromq`. */
  get link(): LinkKind {
    return this.worker.linkKind;
  }

  /**
   * A zero-filled array to fill and pass to calls: on the local link it lives in shared memory, so
   * sending it copies nothing (release it when done: `release()` or `using`). On the ZeroMQ link, or
   * when the region is full, it is an ordinary array.
   */
  alloc<D extends DType>(dtype: D, shape: readonly number[]): SharedArray<D> | NDArray<D> {
    return this.worker.alloc(dtype, shape) ?? zeros(dtype, shape);
  }

  /** The worker process's pid. */
  get pid(): number | undefined {
    return this.worker.pid;
  }

  override call<R = Record<string, unknown>>(op: string, args: Record<string, unknown> = {}, arrays: readonly NDArray[] = [], options: RequestOptions = {}): Promise<Reply<R>> {
    if (this.closing) return Promise.reject(new BridgeClosedError());
    return this.worker.request<R>(op, args, arrays, { ...options, timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs });
  }

  /**
   * Opens a user's model file on the worker's machine: a `.keras` file, a Keras `.h5` file that
   * Keras 3 still reads, or a SavedModel directory (one graph run through its `serving_default`
   * signature: no config, no per-layer outputs). A Keras config is checked against protocol/layers.json before Keras deserializes
   * anything (safe_mode stays on; a Lambda or custom layer is refused by name, never run).
   * @throws {ModelError} naming the file and every unsupported layer, or what is wrong with the file.
   */
  async loadModel(path: string, options?: RequestOptions): Promise<ModelHandle> {
    const reply = await this.call<ModelInfo>("model.load", { path }, [], options);
    return new ModelHandle(this, reply.result);
  }

  /**
   * Builds a model from a Keras 3 config (`model.to_json()`, or {@link sequential} / {@link model}
   * from tfbridge) with explicit weights, or with Keras's initializers seeded by `seed`.
   * @throws {ModelError} for an unsupported layer, a bad argument, or weights of the wrong count or shape.
   */
  async model(config: KerasModelConfig, { weights, seed, ...options }: BuildOptions = {}): Promise<ModelHandle> {
    const resolved = checkModelConfig(config);
    const { names, arrays } = weightArrays(weights ?? {});
    const reply = await this.call<ModelInfo>("model.build", { config: resolved, weights: names, seed: weights ? null : (seed ?? 0) }, arrays, options);
    return new ModelHandle(this, reply.result);
  }

  /** Stops the worker and both channels; calls still in flight reject with BridgeClosedError. Safe to call twice. */
  override close(): Promise<void> {
    const error = new BridgeClosedError();
    this.closing ??= this.proxies.close(error).then(() => this.worker.close(error));
    return this.closing;
  }
}

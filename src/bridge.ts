import { TensorflowClient } from "./client.js";
import { BridgeClosedError } from "./errors.js";
import type { KerasModelConfig } from "./models/config.js";
import { type BuildOptions, ModelHandle, describedModel } from "./models/handle.js";
import { PythonProxies } from "./proxies/proxies.js";
import type { LinkKind } from "./link/link.js";
import type { SharedArray } from "./link/shared-array.js";
import { RequestEngine } from "./engine/engine.js";
import type { Member } from "./engine/members.js";
import { MAX_MESSAGE_BYTES } from "./wire/protocol.js";
import type { NumericDType } from "./wire/dtypes.js";
import { type NDArray, checkShape, zeros } from "./wire/ndarray.js";
import type { OpCall, OpName, OpResult } from "./wire/ops.js";
import type { Reply, RequestOptions } from "./worker/replies.js";
import type { WorkerInfo } from "./worker/info.js";

/** Options for {@link Bridge.start}. */
export interface BridgeOptions {
  /**
   * Python interpreter with TensorFlow; default `$TFBRIDGE_PYTHON`, else a clone's `.venv`, else the env
   * made by `tfbridge setup`.
   */
  python?: string;
  /** Copy the worker's stderr to this process's stderr as it arrives (it is always kept as a tail). */
  forwardStderr?: boolean;
  /** Extra environment variables for the worker. */
  env?: Record<string, string>;
  /**
   * Start workers by forking them from a Python process that imported TensorFlow once, kept while this
   * process runs (docs/performance.md#worker-start-up): a worker is ready in well under a second instead
   * of the seconds TensorFlow's import takes. Default: on Linux, unless `TFBRIDGE_FORK_SERVER=0`.
   */
  forkServer?: boolean;
  /**
   * `local` (the default where its addon is built): a Unix socket pair and shared memory, arrays
   * crossing without a copy on the way back. `zeromq`: the ZeroMQ socket a remote worker would use.
   */
  link?: LinkKind;
  /**
   * The local link's region size for each direction (default 256 MiB). A request whose arrays do not
   * fit waits for room while others are in flight; an array larger than the region goes on the socket.
   */
  linkRegionBytes?: number;
  /** How long start-up (importing TensorFlow) may take before it counts as failed. Default 120 s. */
  startTimeoutMs?: number;
  /**
   * The largest message either side sends or accepts, all frames counted (default 1 GiB, wire.json):
   * a larger request fails with MessageTooLargeError before it is sent, a larger reply becomes one.
   */
  maxMessageBytes?: number;
  /** Timeout applied to every request that does not set its own. Default 300 s; `Infinity` for none. */
  defaultTimeoutMs?: number;
}

/**
 * The entry point: a real CPython + TensorFlow worker on this machine, reached over the local link
 * (a socket pair and shared memory) or, with `{ link: "zeromq" }`, a ZeroMQ socket.
 *
 * A Bridge is a pool of one on the same request engine as {@link Pool}, plus pythonia proxies: the
 * same deadlines, cancellation, message cap and hang detection by heartbeat. Its worker holds state
 * (model handles, proxies), so it is never replaced: once it dies or stops heartbeating, every
 * request in flight and every later one rejects with {@link WorkerDiedError}.
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
    private readonly engine: RequestEngine,
    private readonly worker: Member,
  ) {
    super();
    const process = worker.process!;
    this.proxies = new PythonProxies({
      request: (op, ...request) => this.call(op, ...request),
      proxyEndpoint: process.proxyEndpoint,
      died: engine.failed,
    });
  }

  /** Starts a worker process and waits for it to join. */
  static async start(options: BridgeOptions = {}): Promise<Bridge> {
    const maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    const engine = await RequestEngine.start({
      size: 1,
      startTimeoutMs: options.startTimeoutMs ?? 120_000,
      perWorkerInFlight: Infinity, // the worker queues them: pipelining, with cancels for those not yet run
      maxQueue: Infinity,
      whenFull: "wait",
      defaultTimeoutMs: options.defaultTimeoutMs ?? 300_000,
      maxMessageBytes,
      whenLost: "fail",
      workers: {
        python: options.python,
        forwardStderr: options.forwardStderr,
        env: options.env,
        forkServer: options.forkServer,
        link: options.link,
        regionBytes: options.linkRegionBytes,
        maxMessageBytes,
        proxies: true,
      },
    });
    return new Bridge(engine, engine.memberList[0]!);
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
    return this.worker.link.kind;
  }

  /**
   * A zero-filled array to fill and pass to calls: on the local link it lives in shared memory, so
   * sending it copies nothing (release it when done: `release()` or `using`). On the ZeroMQ link, or
   * when the region is full, it is an ordinary array.
   * @throws {WireError} for a shape that is not a list of non-negative integers (NaN, undefined, -16).
   */
  alloc<D extends NumericDType>(dtype: D, shape: readonly number[]): SharedArray<D> | NDArray<D> {
    checkShape(shape); // before the allocator sees a NaN or negative size
    return this.worker.link.alloc?.(dtype, shape) ?? zeros(dtype, shape);
  }

  /** The worker process's pid, as the worker reported it. */
  get pid(): number {
    return this.worker.info.pid;
  }

  override call<K extends OpName>(op: K, ...[args = {}, arrays = [], options = {}]: OpCall<K, RequestOptions>): Promise<Reply<OpResult<K>>> {
    if (this.closing) return Promise.reject(new BridgeClosedError());
    return this.engine.call<OpResult<K>>(op, args, arrays, options);
  }

  /**
   * Opens a user's model file on the worker's machine: any `.keras` file or Keras `.h5` file that
   * Keras 3 loads in safe mode (nested models, shared layers, `x + y` operation nodes included), or a
   * SavedModel directory (one graph run through its `serving_default` signature: no config, no
   * per-layer outputs). The config is checked for code before Keras reads it: a Lambda (anywhere) or
   * a custom class is refused by name, never imported or run. `handle.tfjs` says whether the model
   * also has a TF.js twin for parity and conversion.
   * @throws {ModelError} naming the file and the offending layers, or what Keras found wrong with the file.
   */
  async loadModel(path: string, options?: RequestOptions): Promise<ModelHandle> {
    const reply = await this.call("model.load", { path }, [], options);
    return new ModelHandle(this, reply.result);
  }

  /**
   * Builds a model from a Keras 3 config (`model.to_json()`, or {@link sequential} / {@link model}
   * from tfbridge) with explicit weights, or with Keras's initializers seeded by `seed`. Any config
   * Keras 3 builds in safe mode runs; `handle.tfjs` says whether it also has a TF.js twin.
   * @throws {ModelError} for a Lambda or custom class (before anything is sent), a config Keras
   * refuses, or weights of the wrong count or shape.
   */
  async model(config: KerasModelConfig, { weights, seed, ...options }: BuildOptions = {}): Promise<ModelHandle> {
    const { arrays, ...described } = describedModel(config, weights, seed);
    const reply = await this.call("model.build", described, arrays, options);
    return new ModelHandle(this, reply.result);
  }

  /** Stops the worker and both channels; calls still in flight reject with BridgeClosedError. Safe to call twice. */
  override close(): Promise<void> {
    this.closing ??= this.proxies.close(new BridgeClosedError()).then(() => this.engine.close(true));
    return this.closing;
  }
}

import { TensorflowClient } from "./client.js";
import { BridgeClosedError } from "./errors.js";
import { PythonProxies } from "./python/proxies.js";
import type { NDArray } from "./wire/ndarray.js";
import type { Reply, RequestOptions } from "./worker/replies.js";
import { Worker, type WorkerInfo, type WorkerOptions } from "./worker/worker.js";

/** Options for {@link Bridge.start}. */
export interface BridgeOptions extends WorkerOptions {
  /** Timeout applied to every request that does not set its own. Default 300 s; `Infinity` for none. */
  defaultTimeoutMs?: number;
}

/**
 * The entry point: a real CPython + TensorFlow worker behind a binary ZeroMQ channel.
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

  /** The worker process's pid. */
  get pid(): number | undefined {
    return this.worker.pid;
  }

  override call<R = Record<string, unknown>>(op: string, args: Record<string, unknown> = {}, arrays: readonly NDArray[] = [], options: RequestOptions = {}): Promise<Reply<R>> {
    if (this.closing) return Promise.reject(new BridgeClosedError());
    return this.worker.request<R>(op, args, arrays, { ...options, timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs });
  }

  /** Stops the worker and both channels; calls still in flight reject with BridgeClosedError. Safe to call twice. */
  override close(): Promise<void> {
    const error = new BridgeClosedError();
    this.closing ??= this.proxies.close(error).then(() => this.worker.close(error));
    return this.closing;
  }
}

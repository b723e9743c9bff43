import { availableParallelism } from "node:os";
import type { Registry } from "prom-client";
import { TensorflowClient } from "../client.js";
import { type EngineRequestOptions, type EngineStats, RequestEngine } from "../engine/engine.js";
import { BridgeClosedError } from "../errors.js";
import type { CurveServerKeys } from "../link/curve.js";
import type { LinkKind } from "../link/link.js";
import type { ModelInputs } from "../models/handle.js";
import { type MetricsOptions, ServingMetrics } from "../serving/metrics.js";
import { type LoadModelOptions, ModelRegistry, type ServePredictOptions, type ServedPrediction, type ServedVersionInfo } from "../serving/registry.js";
import { ServedModel } from "../serving/served-model.js";
import type { ModelSource } from "../serving/source.js";
import type { OpCall, OpName, OpResult } from "../wire/ops.js";
import { MAX_MESSAGE_BYTES } from "../wire/protocol.js";
import type { WorkerInfo } from "../worker/info.js";
import type { Reply, RequestOptions } from "../worker/replies.js";

export interface PoolOptions {
  /** Local worker processes to keep running. Default: the number of cores. 0 for remote workers only. */
  size?: number;
  /** Python interpreter for local workers (default as for {@link Bridge}). */
  python?: string;
  forwardStderr?: boolean;
  /** Fork local workers from a process that imported TensorFlow once (default as for {@link Bridge}); respawns are quick too. */
  forkServer?: boolean;
  /**
   * How local workers are reached: `local` (the default where its addon is built: a socket pair and
   * shared memory each) or `zeromq` (they connect to the pool's IPC socket). Remote workers use ZeroMQ.
   */
  link?: LinkKind;
  /** The local link's region size for each direction and worker (default 256 MiB, sparse). */
  linkRegionBytes?: number;
  /**
   * Requests waiting for a free worker before the pool pushes back. Default 1024. A batching model's
   * callers waiting in its batches are bounded by the same number, per version.
   */
  maxQueue?: number;
  /** When the queue is full: `wait` for room (default) or `reject` with OverloadedError. */
  whenFull?: "wait" | "reject";
  /** Requests sent ahead to one worker (it runs them one at a time). Default 2. */
  perWorkerInFlight?: number;
  /** Deadline of requests that set no timeout; it reaches the worker too. Default 300 s; `Infinity` for none. */
  defaultTimeoutMs?: number;
  /** More endpoints for remote workers (`tfbridge worker --connect …`). Non-loopback TCP needs `curve`. */
  listen?: readonly string[];
  curve?: CurveServerKeys;
  /** How long start() waits for the local workers' handshakes. Default 120 s. */
  startTimeoutMs?: number;
  /**
   * The largest message either side sends or accepts, all frames counted (default 1 GiB, wire.json):
   * a larger request fails with MessageTooLargeError before it is sent; a worker answers a request
   * whose reply would be larger with that error. Remote workers set theirs with TFBRIDGE_MAX_MESSAGE_BYTES.
   */
  maxMessageBytes?: number;
  /** Where {@link Pool.metrics} registers (inject your service's prom-client registry), and their prefix. */
  metrics?: MetricsOptions;
}

export type PoolRequestOptions = EngineRequestOptions;

/** A pool member as the pool sees it. */
export interface PoolWorker {
  id: string;
  info: WorkerInfo;
  remote: boolean;
  inFlight: number;
  /** A stop signal reached it (it said `leaving`): it gets no new requests and goes once it has answered those it holds. */
  leaving: boolean;
}

/** Counters since start. */
export type PoolStats = EngineStats;

/**
 * Many Python workers behind the same API as one {@link Bridge}, on the same request engine:
 * least-loaded dispatch, a bounded queue, deadlines and cancellation that reach the worker, and
 * supervision: a worker that dies or stops heartbeating is replaced, and its idempotent requests are
 * retried once elsewhere.
 *
 * Local workers use the local link (a socket pair and shared memory each) unless `link: "zeromq"`;
 * remote ones (`tfbridge worker --connect tcp://…`) connect to a `listen` endpoint over ZeroMQ
 * (the Paranoid Pirate pattern), CurveZMQ-authenticated off loopback.
 */
export class Pool extends TensorflowClient {
  private engine!: RequestEngine;
  private closing: Promise<void> | null = null;
  private readonly serving: ModelRegistry;
  private readonly servingMetrics: ServingMetrics;

  private constructor(
    private readonly perWorkerInFlight: number,
    maxMessageBytes: number,
    metrics: MetricsOptions | undefined,
    limits: { defaultTimeoutMs: number; maxQueue: number; whenFull: "wait" | "reject" },
  ) {
    super();
    this.servingMetrics = new ServingMetrics(
      {
        queued: () => this.engine.queued,
        inFlight: () => this.engine.inFlight,
        workers: () => this.engine.size,
        versions: () => this.serving.list().length,
        stats: () => this.engine.stats,
      },
      metrics,
    );
    this.serving = new ModelRegistry(this, maxMessageBytes, this.servingMetrics, { defaultTimeoutMs: limits.defaultTimeoutMs, maxQueued: limits.maxQueue, whenFull: limits.whenFull });
  }

  /** Binds the pool's endpoints, starts `size` local workers and waits for their handshakes. */
  static async start(options: PoolOptions = {}): Promise<Pool> {
    const perWorkerInFlight = options.perWorkerInFlight ?? 2;
    const maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    const limits = { maxQueue: options.maxQueue ?? 1024, whenFull: options.whenFull ?? "wait", defaultTimeoutMs: options.defaultTimeoutMs ?? 300_000 } as const;
    const pool = new Pool(perWorkerInFlight, maxMessageBytes, options.metrics, limits);
    await RequestEngine.start(
      {
        size: options.size ?? availableParallelism(),
        startTimeoutMs: options.startTimeoutMs ?? 120_000,
        perWorkerInFlight,
        ...limits,
        maxMessageBytes,
        whenLost: "replace",
        listen: options.listen,
        curve: options.curve,
        workers: {
          python: options.python,
          forwardStderr: options.forwardStderr,
          forkServer: options.forkServer,
          link: options.link,
          regionBytes: options.linkRegionBytes,
          maxMessageBytes,
        },
      },
      (engine) => {
        pool.engine = engine;
        engine.observer = {
          dispatched: (memberId, request) => {
            pool.servingMetrics.dispatched(request.op, (performance.now() - request.sentAt) / 1000);
            // Its load goes ahead of it on that worker even while the pool drains: the request was accepted.
            pool.serving.dispatching(memberId, request, (load) => engine.callOn(memberId, "serve.load", load.args, load.arrays, {}, true));
          },
        };
      },
    );
    return pool;
  }

  /** Live workers, local and remote. */
  get workers(): PoolWorker[] {
    return this.engine.memberList.map((m) => ({ id: m.id, info: m.info, remote: m.process === null, inFlight: m.inFlight.size, leaving: m.leaving }));
  }

  /** Requests the live workers take at once: `perWorkerInFlight` each, leaving ones not counted. */
  get capacity(): number {
    return this.engine.available * this.perWorkerInFlight;
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.engine.queued;
  }

  /** Counters since start. */
  get stats(): PoolStats {
    return this.engine.stats;
  }

  /** Resolves once at least `count` workers are live and not leaving. */
  waitForWorkers(count: number, timeoutMs = 60_000): Promise<void> {
    return this.engine.waitForWorkers(count, timeoutMs);
  }

  override call<K extends OpName>(op: K, ...[args = {}, arrays = [], options = {}]: OpCall<K, PoolRequestOptions>): Promise<Reply<OpResult<K>>> {
    if (this.closing) return Promise.reject(new BridgeClosedError());
    return this.engine.call<OpResult<K>>(op, args, arrays, options);
  }

  /**
   * Sends one request to the worker `workerId` (an id of {@link workers}), past the queue: for work
   * each worker must do itself, such as loading a served model. Never retried elsewhere.
   * @throws {WorkerDiedError} when that worker is not (or no longer) live.
   */
  callOn<K extends OpName>(workerId: string, op: K, ...[args = {}, arrays = [], options = {}]: OpCall<K, RequestOptions>): Promise<Reply<OpResult<K>>> {
    if (this.closing) return Promise.reject(new BridgeClosedError());
    return this.engine.callOn<OpResult<K>>(workerId, op, args, arrays, options);
  }
  /**
   * Serves a model under `name`: a `.keras`/`.h5` file or SavedModel folder on this machine (its bytes
   * go to every worker, remote ones too) or a description `{ config, weights | seed }`. Loads and warms
   * it on every worker before it takes traffic; workers that join later load it on first use.
   * @throws {ModelLoadError} with the failing worker's error and traceback; nothing of it is served then.
   */
  async loadModel(source: ModelSource, options: LoadModelOptions): Promise<ServedModel> {
    if (this.closing) throw new BridgeClosedError();
    return new ServedModel(this.serving, await this.serving.load(source, options));
  }

  /**
   * Runs a served model (its default version, or `options.version`) on `inputs`, checked against its
   * signature before queueing. @throws {ModelNotFoundError} for an unknown model or version.
   */
  predict(name: string, inputs: ModelInputs, options?: ServePredictOptions): Promise<ServedPrediction> {
    if (this.closing) return Promise.reject(new BridgeClosedError());
    return this.serving.predict(name, inputs, options);
  }

  /** Stops serving `name` (one version, or all) once the requests it accepted finish. */
  unloadModel(name: string, version?: number): Promise<void> {
    return this.serving.unload(name, version);
  }

  /** Makes `version` the one requests for `name` without a version get. */
  setDefaultVersion(name: string, version: number): void {
    this.serving.setDefault(name, version);
  }

  /**
   * The served version a request for `name` goes to: `version`, or the default without one.
   * @throws {ModelNotFoundError} when it is not served.
   */
  servedVersion(name: string, version?: number): ServedVersionInfo {
    return this.serving.servedVersion(name, version);
  }

  /** Every served version. */
  models(): ServedVersionInfo[] {
    return this.serving.list();
  }

  /** Prometheus exposition text of the pool's metrics (and of the rest of an injected registry). */
  metrics(): Promise<string> {
    return this.servingMetrics.text();
  }

  /** The prom-client registry the pool's metrics are in (its `contentType` is the one to serve them with). */
  get metricsRegistry(): Registry {
    return this.servingMetrics.registry;
  }

  /** Drains in-flight work, then stops every worker. A second call (or SIGTERM meanwhile) forces it. */
  override close(force = false): Promise<void> {
    if (this.closing) {
      if (force || !this.engine.isForced) this.forceClose();
      return this.closing;
    }
    // Batches still filling, and requests waiting for a slot, go now, while the pool takes requests, so
    // the drain below answers them.
    this.serving.sendHeld();
    const onSigterm = () => this.forceClose();
    process.once("SIGTERM", onSigterm);
    this.closing = this.engine.close(force, () => process.off("SIGTERM", onSigterm));
    return this.closing;
  }

  private forceClose(): void {
    this.engine.forceClose(new BridgeClosedError());
  }
}

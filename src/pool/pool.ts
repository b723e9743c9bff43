import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Router } from "zeromq";
import { TensorflowClient } from "../client.js";
import { BridgeClosedError, MessageTooLargeError, WorkerDiedError } from "../errors.js";
import { type Message, decodeMessage, encodeControl, messageBytes } from "../wire/codec.js";
import type { NDArray } from "../wire/ndarray.js";
import { HEARTBEAT_MS, IDEMPOTENT_OPS, LIVENESS, MAX_MESSAGE_BYTES, WIRE_VERSION } from "../wire/protocol.js";
import { PendingRequest } from "../worker/pending.js";
import { privateDir, removePrivateDir } from "../worker/private-dir.js";
import type { ExitInfo, WorkerProcess } from "../worker/process.js";
import { type Reply, type RequestOptions, replyOutcome } from "../worker/replies.js";
import { serialSends } from "../link/send-queue.js";
import type { WorkerInfo } from "../worker/worker.js";
import type { Registry } from "prom-client";
import type { ModelInputs } from "../models/handle.js";
import { type MetricsOptions, ServingMetrics } from "../serving/metrics.js";
import { type LoadModelOptions, ModelRegistry, type ServePredictOptions, type ServedPrediction, type ServedVersionInfo } from "../serving/registry.js";
import { ServedModel } from "../serving/served-model.js";
import type { ModelSource } from "../serving/source.js";
import { type CurveServerKeys, curveServer } from "./curve.js";
import { checkListenEndpoints } from "./endpoints.js";
import { LocalWorkers } from "./local-workers.js";
import { type Job, type Member, Members } from "./members.js";
import { WaitQueue } from "./queue.js";

export interface PoolOptions {
  /** Local worker processes to keep running. Default: the number of cores. 0 for remote workers only. */
  size?: number;
  /** Python interpreter for local workers (default as for {@link Bridge}). */
  python?: string;
  forwardStderr?: boolean;
  /** Requests waiting for a free worker before the pool pushes back. Default 1024. */
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

export interface PoolRequestOptions extends RequestOptions {
  /** Retry once on another worker if this one dies. Default: true for the ops in wire.json `idempotentOps`. */
  idempotent?: boolean;
}

/** A pool member as the pool sees it. */
export interface PoolWorker {
  id: string;
  info: WorkerInfo;
  remote: boolean;
  inFlight: number;
}

/** Counters since start. */
export interface PoolStats {
  replaced: number;
  retried: number;
  diedWithRequests: number;
  /** Heartbeat intervals some worker stayed silent through. */
  heartbeatMisses: number;
  /** Bytes on the pool's link, all frames counted. */
  bytesSent: number;
  bytesReceived: number;
}

type ResolvedOptions = Required<Omit<PoolOptions, "python" | "curve" | "listen" | "forwardStderr" | "metrics">> & PoolOptions;

/**
 * Many Python workers behind the same API as one {@link Bridge}: least-loaded dispatch, a bounded queue,
 * deadlines and cancellation that reach the worker, and supervision: a worker that dies or stops
 * heartbeating is replaced, and its idempotent requests are retried once elsewhere.
 *
 * Workers connect to the pool (ZeroMQ's Paranoid Pirate pattern): local ones over IPC in a private
 * folder, remote ones (`tfbridge worker --connect tcp://…`) over TCP, CurveZMQ-authenticated off loopback.
 */
export class Pool extends TensorflowClient {
  private readonly router: Router;
  private readonly dir = privateDir("pool");
  private readonly localEndpoint = `ipc://${join(this.dir, "pool.sock")}`;
  private readonly members = new Members();
  private readonly queue: WaitQueue<Job>;
  private readonly local: LocalWorkers;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly heartbeat: NodeJS.Timeout;
  private readonly allowCurve: (() => Promise<() => void>) | null;
  private disallow: (() => void) | null = null;
  private readonly sendRaw = serialSends((frames: Buffer[]) => this.router.send(frames));
  private nextId = 1;
  private closing: Promise<void> | null = null;
  private forced = false;
  readonly stats: PoolStats = { replaced: 0, retried: 0, diedWithRequests: 0, heartbeatMisses: 0, bytesSent: 0, bytesReceived: 0 };
  private readonly serving: ModelRegistry;
  private readonly servingMetrics: ServingMetrics;

  private constructor(private readonly options: ResolvedOptions) {
    super();
    this.router = new Router({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0, maxMessageSize: options.maxMessageBytes, mandatory: true });
    const curve = options.curve ? curveServer(this.router, options.curve) : null;
    this.allowCurve = curve?.allow ?? null;
    this.queue = new WaitQueue(options.maxQueue, options.whenFull);
    this.local = new LocalWorkers(
      {
        python: options.python,
        forwardStderr: options.forwardStderr,
        endpoint: this.localEndpoint,
        maxMessageBytes: options.maxMessageBytes,
        curve: curve && options.curve ? { ...curve.localKeys, serverKey: options.curve.publicKey } : null,
      },
      (proc, exit) => this.localExited(proc, exit),
    );
    this.servingMetrics = new ServingMetrics(
      {
        queued: () => this.queue.length,
        inFlight: () => this.members.all().reduce((n, m) => n + m.inFlight.size, 0),
        workers: () => this.members.size,
        versions: () => this.serving.list().length,
        stats: () => this.stats,
      },
      options.metrics,
    );
    this.serving = new ModelRegistry(this, options.maxMessageBytes, this.servingMetrics);
    // The interval and the misses allowed are protocol constants: the worker heartbeats on the same clock.
    this.heartbeat = setInterval(() => this.tick(), HEARTBEAT_MS);
  }

  /** Binds the pool's endpoints, starts `size` local workers and waits for their handshakes. */
  static async start(options: PoolOptions = {}): Promise<Pool> {
    await checkListenEndpoints(options.listen ?? [], options.curve);
    const pool = new Pool({
      ...options,
      size: options.size ?? availableParallelism(),
      maxQueue: options.maxQueue ?? 1024,
      whenFull: options.whenFull ?? "wait",
      perWorkerInFlight: options.perWorkerInFlight ?? 2,
      defaultTimeoutMs: options.defaultTimeoutMs ?? 300_000,
      startTimeoutMs: options.startTimeoutMs ?? 120_000,
      maxMessageBytes: options.maxMessageBytes ?? MAX_MESSAGE_BYTES,
    });
    try {
      if (pool.allowCurve) pool.disallow = await pool.allowCurve();
      for (const endpoint of [pool.localEndpoint, ...(options.listen ?? [])]) await pool.router.bind(endpoint);
      void pool.receiveLoop();
      for (let i = 0; i < pool.options.size; i++) pool.local.spawn();
      await pool.waitForWorkers(pool.options.size, pool.options.startTimeoutMs);
      return pool;
    } catch (e) {
      pool.close(true).catch(() => {});
      throw e;
    }
  }

  /** Live workers, local and remote. */
  get workers(): PoolWorker[] {
    return this.members.all().map((m) => ({ id: m.id, info: m.info, remote: m.process === null, inFlight: m.inFlight.size }));
  }

  /** Requests the live workers take at once: `perWorkerInFlight` each. */
  get capacity(): number {
    return this.members.size * this.options.perWorkerInFlight;
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Resolves once at least `count` workers are live. */
  waitForWorkers(count: number, timeoutMs = 60_000): Promise<void> {
    return this.members.waitFor(count, timeoutMs);
  }

  override async call<R = Record<string, unknown>>(op: string, args: Record<string, unknown> = {}, arrays: readonly NDArray[] = [], options: PoolRequestOptions = {}): Promise<Reply<R>> {
    if (this.closing) throw new BridgeClosedError();
    const limits = { timeoutMs: options.timeoutMs ?? this.options.defaultTimeoutMs, signal: options.signal, maxMessageBytes: this.options.maxMessageBytes };
    // The callback runs only once the request settles, after `job` below exists.
    const request = new PendingRequest(this.nextId++, op, args, arrays, limits, (_, gaveUp) => {
      this.detach(job, gaveUp);
      this.pump();
    });
    const job: Job = { request, idempotent: options.idempotent ?? IDEMPOTENT_OPS.has(op), attempts: 0, member: null };
    try {
      if (this.queue.offer(job)) this.pump();
      else void this.queue.pushWhenRoom(job, () => this.closing !== null).then(() => this.pump(), (error: Error) => request.settle({ error }));
    } catch (error) {
      request.settle({ error: error as Error }); // OverloadedError
    }
    return request.promise as Promise<Reply<R>>;
  }

  /**
   * Sends one request to the worker `workerId` (an id of {@link workers}), past the queue: for work
   * each worker must do itself, such as loading a served model. Never retried elsewhere.
   * @throws {WorkerDiedError} when that worker is not (or no longer) live.
   */
  callOn<R = Record<string, unknown>>(workerId: string, op: string, args: Record<string, unknown> = {}, arrays: readonly NDArray[] = [], options: RequestOptions = {}): Promise<Reply<R>> {
    if (this.closing) return Promise.reject(new BridgeClosedError());
    const member = this.members.get(workerId);
    if (!member) return Promise.reject(new WorkerDiedError(null, null, "", `${workerId} is not a live worker of this pool`));
    const limits = { timeoutMs: options.timeoutMs ?? this.options.defaultTimeoutMs, signal: options.signal, maxMessageBytes: this.options.maxMessageBytes };
    let request: PendingRequest;
    try {
      request = new PendingRequest(this.nextId++, op, args, arrays, limits, (_, gaveUp) => {
        this.detach(job, gaveUp);
        this.pump();
      });
    } catch (e) {
      return Promise.reject(e);
    }
    const job: Job = { request, idempotent: false, attempts: 1, member };
    member.inFlight.set(request.id, job);
    void this.send(member, request.encode()).catch((e: Error) => this.bury(member, new WorkerDiedError(null, null, "", `became unreachable: ${e.message}`)));
    return request.promise as Promise<Reply<R>>;
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
      if (force || !this.forced) this.forceClose();
      return this.closing;
    }
    // Batches still filling go now, while the pool takes requests, so the drain below answers them.
    this.serving.flushBatches();
    const onSigterm = () => this.forceClose();
    process.once("SIGTERM", onSigterm);
    this.closing = (async () => {
      if (force) this.forceClose();
      await this.idle();
      process.off("SIGTERM", onSigterm);
      this.forceClose();
      clearInterval(this.heartbeat);
      for (const m of this.members.all()) await this.send(m, encodeControl("disconnect")).catch(() => {});
      await Promise.all(this.members.all().map((m) => m.process?.stop()));
      await this.local.stopStarting();
      this.members.clear();
      this.router.close();
      this.disallow?.();
      removePrivateDir(this.dir);
    })();
    return this.closing;
  }

  /** Resolves when nothing is queued or in flight (at once after a forced close, which settles it all). */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.isIdle() ? resolve() : this.idleWaiters.push(check));
      check();
    });
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.members.all().every((m) => m.inFlight.size === 0);
  }

  private forceClose(): void {
    this.forced = true;
    const error = new BridgeClosedError();
    for (const job of this.queue.snapshot()) job.request.settle({ error });
    for (const m of this.members.all()) for (const job of [...m.inFlight.values()]) job.request.settle({ error });
  }

  /** A local worker process ended by itself: bury its member, or start another if it never joined. */
  private localExited(proc: WorkerProcess, { code, signal }: ExitInfo): void {
    const member = this.members.running(proc);
    if (member) this.bury(member, new WorkerDiedError(code, signal, proc.stderrTail()));
    else if (!this.closing) {
      process.emitWarning(`tfbridge pool: a worker exited before joining (code ${code}, signal ${signal}); starting another in 1 s\n${proc.stderrTail()}`);
      setTimeout(() => !this.closing && this.local.spawn(), 1000).unref();
    }
  }

  /** Takes a settled job off the queue or its worker; `cancelOnWorker` tells the worker to drop it (we gave up on it). */
  private detach(job: Job, cancelOnWorker: boolean): void {
    this.queue.remove(job);
    const member = job.member;
    if (member?.inFlight.delete(job.request.id) && cancelOnWorker) {
      void this.send(member, encodeControl("cancel", job.request.id)).catch(() => {});
    }
    job.member = null;
    if (this.isIdle()) for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  /** Sends queued jobs to the least-loaded workers with room. */
  private pump(): void {
    while (this.queue.length > 0 && !this.forced) {
      const member = this.members.leastLoaded(this.options.perWorkerInFlight);
      if (!member) return;
      const job = this.queue.shift()!;
      job.member = member;
      job.attempts++;
      member.inFlight.set(job.request.id, job);
      member.lastUsed = Date.now();
      this.servingMetrics.dispatched(job.request.op, (performance.now() - job.request.sentAt) / 1000);
      this.serving.dispatching(member.id, job.request);
      void this.send(member, job.request.encode()).catch((e: Error) => this.bury(member, new WorkerDiedError(null, null, "", `became unreachable: ${e.message}`)));
    }
  }

  private send(member: Member, frames: Buffer[]): Promise<void> {
    this.stats.bytesSent += messageBytes(frames);
    return this.sendRaw([member.identity, ...frames]);
  }

  /** A worker is gone: retry its idempotent jobs once elsewhere, reject the rest, and replace it if local. */
  private bury(member: Member, error: WorkerDiedError): void {
    if (!this.members.remove(member)) return;
    if (member.inFlight.size > 0) this.stats.diedWithRequests++;
    const jobs = [...member.inFlight.values()];
    member.inFlight.clear();
    for (const job of jobs) {
      job.member = null;
      if (job.idempotent && job.attempts < 2 && !this.forced) {
        this.stats.retried++;
        this.queue.unshift(job);
      } else job.request.settle({ error });
    }
    if (member.process) {
      this.local.retire(member.process);
      if (!this.closing) {
        this.stats.replaced++;
        this.local.spawn();
      }
    }
    this.pump();
  }

  /** Every heartbeat interval: buries the workers silent for `liveness` intervals, heartbeats the rest. */
  private tick(): void {
    const { silent, alive } = this.members.tick();
    for (const m of [...silent, ...alive]) if (m.missed > 0) this.stats.heartbeatMisses++;
    for (const m of silent) this.bury(m, new WorkerDiedError(null, null, m.process?.stderrTail() ?? "", `missed ${LIVENESS} heartbeats (stuck or unreachable)`));
    for (const m of alive) void this.send(m, encodeControl("heartbeat")).catch(() => {});
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const [identity, ...frames] of this.router) {
        try {
          this.receive(identity!, frames);
        } catch (e) {
          // Whatever one peer sent, the loop serves on: the pool must never die of a message.
          process.emitWarning(`tfbridge pool: dropped a message it could not handle: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      if (!this.router.closed) this.forceClose();
    }
  }

  private receive(identity: Buffer, frames: Buffer[]): void {
    this.stats.bytesReceived += messageBytes(frames);
    let message: Message;
    try {
      message = decodeMessage(frames);
    } catch (e) {
      process.emitWarning(`tfbridge pool: dropped an unreadable message: ${(e as Error).message}`);
      return;
    }
    const id = identity.toString("hex");
    const { header } = message;
    const member = this.members.get(id);
    if (member) member.heard = true;
    if (header.ctl === "ready") {
      if (this.closing) return;
      const info = header.info as Partial<WorkerInfo> | null;
      if (typeof info !== "object" || info === null || info.protocol !== WIRE_VERSION) {
        // A worker of another wire version would misread requests: it does not join, and is told to go.
        process.emitWarning(`tfbridge pool: refused a worker that speaks wire version ${JSON.stringify(info?.protocol)}, not ${WIRE_VERSION}`);
        void this.sendRaw([identity, ...encodeControl("disconnect")]).catch(() => {});
        return;
      }
      const token = typeof header.token === "string" ? header.token : null;
      this.members.join(id, identity, info as WorkerInfo, token, token ? this.local.claim(token) : undefined);
      this.pump();
    } else if (header.ctl === "heartbeat") {
      // A worker we counted as gone (an outage, a stall) is alive after all: ask it to announce itself
      // again rather than lose it. While closing, tell it to stop instead.
      if (!member) void this.sendRaw([identity, ...encodeControl(this.closing ? "disconnect" : "rejoin")]).catch(() => {});
    } else if (member && typeof header.id === "number") {
      const job = member.inFlight.get(header.id);
      if (!job) return; // timed out or cancelled meanwhile
      const size = messageBytes(frames);
      job.request.settle(
        size > this.options.maxMessageBytes
          ? { error: new MessageTooLargeError(`${job.request.op}: a reply of ${size} bytes is over the ${this.options.maxMessageBytes}-byte message cap`) }
          : replyOutcome(message),
      );
    }
  }
}

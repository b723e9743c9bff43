import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Router, curveKeyPair } from "zeromq";
import { TensorflowClient } from "../client.js";
import { BridgeClosedError, MessageTooLargeError, OverloadedError, WorkerDiedError, WorkerStartError } from "../errors.js";
import { type Message, decodeMessage, encodeControl, messageBytes } from "../wire/codec.js";
import type { NDArray } from "../wire/ndarray.js";
import { HEARTBEAT_MS, IDEMPOTENT_OPS, LIVENESS, MAX_MESSAGE_BYTES } from "../wire/protocol.js";
import { type Reply, type RequestOptions, replyOutcome } from "../worker/replies.js";
import { PendingRequest } from "../worker/pending.js";
import { privateDir } from "../worker/private-dir.js";
import { WorkerProcess } from "../worker/process.js";
import { serialSends } from "../worker/send-queue.js";
import type { WorkerInfo } from "../worker/worker.js";
import { type CurveServerKeys, allowCurveClients } from "./curve.js";
import { checkListenEndpoints } from "./endpoints.js";

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
}

/** A request as the pool schedules it: its lifetime (shared with a Bridge's) plus where it runs. */
interface Job {
  request: PendingRequest;
  idempotent: boolean;
  attempts: number;
  member: Member | null;
}

interface Member {
  id: string;
  identity: Buffer;
  info: WorkerInfo;
  /** The token a pool gives the workers it spawns; null for remote workers. */
  token: string | null;
  inFlight: Map<number, Job>;
  /** Anything came from it since the last heartbeat tick. */
  heard: boolean;
  /** Ticks in a row without a word from it: ticks, not wall time, so our own stalls do not count. */
  missed: number;
  lastUsed: number;
  process: WorkerProcess | null;
}

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
  private readonly members = new Map<string, Member>();
  private readonly queue: Job[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  private readonly processes = new Map<string, WorkerProcess>(); // by token, until their worker is ready
  private readonly retired = new WeakSet<WorkerProcess>();
  private readonly readyWaiters: (() => void)[] = [];
  private readonly heartbeat: NodeJS.Timeout;
  private readonly allowed: ReadonlySet<string> | null;
  private readonly zapDomain = `tfbridge-${randomUUID()}`;
  private disallow: (() => void) | null = null;
  private readonly localKeys: { publicKey: string; secretKey: string } | null;
  private readonly sendRaw = serialSends((frames: Buffer[]) => this.router.send(frames));
  private nextId = 1;
  private closing: Promise<void> | null = null;
  private forced = false;
  readonly stats: PoolStats = { replaced: 0, retried: 0, diedWithRequests: 0 };

  private constructor(private readonly options: Required<Omit<PoolOptions, "python" | "curve" | "listen" | "forwardStderr">> & PoolOptions) {
    super();
    const curve = options.curve;
    this.router = new Router({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0, maxMessageSize: options.maxMessageBytes, mandatory: true });
    if (curve) {
      // Local workers get a key pair of their own, allowed beside the configured remote ones.
      this.localKeys = curveKeyPair();
      this.router.curveServer = true;
      this.router.curveSecretKey = curve.secretKey;
      this.router.zapDomain = this.zapDomain;
      this.allowed = new Set([...curve.allowedClients, this.localKeys.publicKey]);
    } else {
      this.localKeys = null;
      this.allowed = null;
    }
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
      if (pool.allowed) pool.disallow = await allowCurveClients(pool.zapDomain, pool.allowed);
      for (const endpoint of [pool.localEndpoint, ...(options.listen ?? [])]) await pool.router.bind(endpoint);
      void pool.receiveLoop();
      for (let i = 0; i < pool.options.size; i++) pool.spawnLocal();
      await pool.waitForWorkers(pool.options.size, pool.options.startTimeoutMs);
      return pool;
    } catch (e) {
      pool.close(true).catch(() => {});
      throw e;
    }
  }

  /** Live workers, local and remote. */
  get workers(): PoolWorker[] {
    return [...this.members.values()].map((m) => ({ id: m.id, info: m.info, remote: m.process === null, inFlight: m.inFlight.size }));
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Resolves once at least `count` workers are live. */
  waitForWorkers(count: number, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new WorkerStartError(`only ${this.members.size} of ${count} workers joined within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        if (this.members.size >= count) {
          clearTimeout(timer);
          resolve();
        } else this.readyWaiters.push(check);
      };
      check();
    });
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
    void this.enqueue(job).catch((error: Error) => request.settle({ error }));
    return request.promise as Promise<Reply<R>>;
  }

  /** Drains in-flight work, then stops every worker. A second call (or SIGTERM meanwhile) forces it. */
  override close(force = false): Promise<void> {
    if (this.closing) {
      if (force || !this.forced) this.forceClose();
      return this.closing;
    }
    const onSigterm = () => this.forceClose();
    process.once("SIGTERM", onSigterm);
    this.closing = (async () => {
      if (force) this.forceClose();
      while (!this.forced && (this.queue.length > 0 || [...this.members.values()].some((m) => m.inFlight.size > 0))) {
        await new Promise((r) => setTimeout(r, 20));
      }
      process.off("SIGTERM", onSigterm);
      this.forceClose();
      clearInterval(this.heartbeat);
      for (const m of this.members.values()) await this.send(m, encodeControl("disconnect")).catch(() => {});
      await Promise.all([...this.members.values()].map((m) => m.process?.stop()));
      await Promise.all([...this.processes.values()].map((p) => p.stop()));
      this.members.clear();
      this.router.close();
      this.disallow?.();
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.closing;
  }

  private forceClose(): void {
    this.forced = true;
    const error = new BridgeClosedError();
    for (const job of [...this.queue]) job.request.settle({ error });
    for (const m of this.members.values()) for (const job of [...m.inFlight.values()]) job.request.settle({ error });
  }

  private spawnLocal(): void {
    const token = randomUUID();
    const keys = this.localKeys && this.options.curve;
    const env: Record<string, string> = keys
      ? { TFBRIDGE_CURVE_PUBLIC_KEY: this.localKeys!.publicKey, TFBRIDGE_CURVE_SECRET_KEY: this.localKeys!.secretKey, TFBRIDGE_CURVE_SERVER_KEY: keys.publicKey }
      : {};
    env.TFBRIDGE_WORKER_TOKEN = token;
    env.TFBRIDGE_MAX_MESSAGE_BYTES = String(this.options.maxMessageBytes);
    const proc = new WorkerProcess({ python: this.options.python, forwardStderr: this.options.forwardStderr, connect: this.localEndpoint, env });
    this.processes.set(token, proc);
    void proc.exited.then(({ code, signal }) => {
      this.processes.delete(token);
      if (this.retired.has(proc)) return; // buried already, and already replaced
      const member = [...this.members.values()].find((m) => m.process === proc);
      if (member) this.bury(member, new WorkerDiedError(code, signal, proc.stderrTail()));
      else if (!this.closing) {
        process.emitWarning(`tfbridge pool: a worker exited before joining (code ${code}, signal ${signal}); starting another in 1 s\n${proc.stderrTail()}`);
        setTimeout(() => !this.closing && this.spawnLocal(), 1000).unref();
      }
    });
  }

  private async enqueue(job: Job): Promise<void> {
    while (this.queue.length >= this.options.maxQueue) {
      if (this.options.whenFull === "reject") throw new OverloadedError(this.queue.length);
      await new Promise<void>((r) => this.roomWaiters.push(r));
      if (this.closing) throw new BridgeClosedError();
    }
    this.queue.push(job);
    this.pump();
  }

  /** Takes a settled job off the queue or its worker; `cancelOnWorker` tells the worker to drop it (we gave up on it). */
  private detach(job: Job, cancelOnWorker: boolean): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.roomWaiters.shift()?.();
    }
    const member = job.member;
    if (member?.inFlight.delete(job.request.id) && cancelOnWorker) {
      void this.send(member, encodeControl("cancel", job.request.id)).catch(() => {});
    }
    job.member = null;
  }

  /** Sends queued jobs to the least-loaded workers with room. */
  private pump(): void {
    while (this.queue.length > 0 && !this.forced) {
      let best: Member | null = null;
      for (const m of this.members.values()) {
        if (m.inFlight.size >= this.options.perWorkerInFlight) continue;
        if (!best || m.inFlight.size < best.inFlight.size || (m.inFlight.size === best.inFlight.size && m.lastUsed < best.lastUsed)) best = m;
      }
      if (!best) return;
      const job = this.queue.shift()!;
      this.roomWaiters.shift()?.();
      job.member = best;
      job.attempts++;
      best.inFlight.set(job.request.id, job);
      best.lastUsed = Date.now();
      const frames = job.request.encode();
      const member = best;
      void this.send(member, frames).catch((e: Error) => this.bury(member, new WorkerDiedError(null, null, "", `became unreachable: ${e.message}`)));
    }
  }

  private send(member: Member, frames: Buffer[]): Promise<void> {
    return this.sendRaw([member.identity, ...frames]);
  }

  /** A worker is gone: retry its idempotent jobs once elsewhere, reject the rest, and replace it if local. */
  private bury(member: Member, error: WorkerDiedError): void {
    if (this.members.get(member.id) !== member) return;
    this.members.delete(member.id);
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
      this.retired.add(member.process);
      void member.process.stop("SIGKILL");
      if (!this.closing) {
        this.stats.replaced++;
        this.spawnLocal();
      }
    }
    this.pump();
  }

  /**
   * Every heartbeat interval: counts a miss for each worker not heard from since the last tick. After
   * a stall of this process (a blocked event loop) the first tick sees nothing read yet and counts one
   * miss, not the stall's length: the workers' messages are waiting in the socket, read right after.
   */
  private tick(): void {
    for (const m of [...this.members.values()]) {
      m.missed = m.heard ? 0 : m.missed + 1;
      m.heard = false;
      if (m.missed >= LIVENESS) {
        this.bury(m, new WorkerDiedError(null, null, m.process?.stderrTail() ?? "", `missed ${LIVENESS} heartbeats (stuck or unreachable)`));
      } else void this.send(m, encodeControl("heartbeat")).catch(() => {});
    }
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
      this.join(id, identity, header.info as WorkerInfo, typeof header.token === "string" ? header.token : null);
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

  private join(id: string, identity: Buffer, info: WorkerInfo, token: string | null): void {
    if (this.closing) return;
    const spawned = token ? this.processes.get(token) : undefined;
    if (spawned) this.processes.delete(token!);
    // A local worker that made a new socket (after a long silence) comes back under a new routing id:
    // the same process, and the requests it holds go on under the new id.
    const earlier = token ? [...this.members.values()].find((m) => m.token === token) : undefined;
    if (earlier) this.members.delete(earlier.id);
    const inFlight = earlier?.inFlight ?? new Map<number, Job>();
    const member: Member = { id, identity, info, token, inFlight, heard: true, missed: 0, lastUsed: 0, process: spawned ?? earlier?.process ?? null };
    for (const job of inFlight.values()) job.member = member;
    this.members.set(id, member);
    for (const waiter of this.readyWaiters.splice(0)) waiter();
    this.pump();
  }
}

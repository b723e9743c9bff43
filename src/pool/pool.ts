import { randomUUID } from "node:crypto";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Router, curveKeyPair } from "zeromq";
import { TensorflowClient } from "../client.js";
import { BridgeClosedError, OverloadedError, RequestAbortedError, RequestTimeoutError, WireError, WorkerDiedError, WorkerStartError } from "../errors.js";
import { readProtocolFile } from "../paths.js";
import { type Message, decodeMessage, encodeMessage } from "../wire/codec.js";
import type { NDArray } from "../wire/ndarray.js";
import { type Reply, type RequestOptions, replyOutcome } from "../worker/connection.js";
import { WorkerProcess } from "../worker/process.js";
import { serialSends } from "../worker/send-queue.js";
import { privateTempDir, removeTempDir } from "../worker/temp-dirs.js";
import type { WorkerInfo } from "../worker/worker.js";
import { type CurveServerKeys, allowCurveClients, checkListenEndpoints } from "./curve.js";

interface WireConstants {
  idempotentOps: string[];
  control: { heartbeatMs: number; liveness: number; maxMessageBytes: number };
}
const WIRE = readProtocolFile<WireConstants>("wire.json");
const IDEMPOTENT = new Set(WIRE.idempotentOps);

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
  /** Deadline of requests that set no timeout; it reaches the worker too. Default 300 s. */
  defaultTimeoutMs?: number;
  /** More endpoints for remote workers (`tfbridge worker --connect …`). Non-loopback TCP needs `curve`. */
  listen?: readonly string[];
  curve?: CurveServerKeys;
  /** How long start() waits for the local workers' handshakes. Default 120 s. */
  startTimeoutMs?: number;
  /**
   * The largest message either side accepts (default 1 GiB, wire.json): larger requests are refused
   * before sending, and libzmq drops a peer that sends more. Remote workers set theirs with
   * TFBRIDGE_MAX_MESSAGE_BYTES.
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

interface Job {
  id: number;
  op: string;
  args: Record<string, unknown>;
  arrays: readonly NDArray[];
  deadline: number;
  idempotent: boolean;
  attempts: number;
  member: Member | null;
  settle(outcome: { reply: Reply } | { error: Error }): void;
}

interface Member {
  id: string;
  identity: Buffer;
  info: WorkerInfo;
  inFlight: Map<number, Job>;
  lastSeen: number;
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
  private readonly dir = privateTempDir("tfbridge-pool-");
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
    this.heartbeat = setInterval(() => this.tick(), WIRE.control.heartbeatMs);
  }

  /** Binds the pool's endpoints, starts `size` local workers and waits for their handshakes. */
  static async start(options: PoolOptions = {}): Promise<Pool> {
    checkListenEndpoints(options.listen ?? [], options.curve);
    const pool = new Pool({
      ...options,
      size: options.size ?? availableParallelism(),
      maxQueue: options.maxQueue ?? 1024,
      whenFull: options.whenFull ?? "wait",
      perWorkerInFlight: options.perWorkerInFlight ?? 2,
      defaultTimeoutMs: options.defaultTimeoutMs ?? 300_000,
      startTimeoutMs: options.startTimeoutMs ?? 120_000,
      maxMessageBytes: options.maxMessageBytes ?? WIRE.control.maxMessageBytes,
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
    if (options.signal?.aborted) throw new RequestAbortedError(op, options.signal.reason);
    const bytes = arrays.reduce((n, a) => n + a.data.byteLength, 0);
    if (bytes > this.options.maxMessageBytes) {
      throw new WireError(`${op}: ${bytes} bytes of arrays exceed the ${this.options.maxMessageBytes}-byte message limit`);
    }
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs;
    const job = await new Promise<{ reply: Reply } | { error: Error }>((settleOuter) => {
      let settled = false;
      const timer = setTimeout(() => finish({ error: new RequestTimeoutError(op, timeoutMs) }), timeoutMs);
      const onAbort = () => finish({ error: new RequestAbortedError(op, options.signal!.reason) });
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const job: Job = {
        id: this.nextId++,
        op,
        args,
        arrays,
        deadline: Date.now() + timeoutMs,
        idempotent: options.idempotent ?? IDEMPOTENT.has(op),
        attempts: 0,
        member: null,
        settle: (outcome) => finish(outcome),
      };
      const finish = (outcome: { reply: Reply } | { error: Error }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        this.detach(job, "error" in outcome && !(outcome.error instanceof WorkerDiedError));
        settleOuter(outcome);
        this.pump();
      };
      void this.enqueue(job).catch((error: Error) => finish({ error }));
    });
    if ("error" in job) throw job.error;
    return job.reply as Reply<R>;
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
      for (const m of this.members.values()) await this.send(m, encodeMessage({ id: null, ctl: "disconnect" })).catch(() => {});
      await Promise.all([...this.members.values()].map((m) => m.process?.stop()));
      await Promise.all([...this.processes.values()].map((p) => p.stop()));
      this.members.clear();
      this.router.close();
      this.disallow?.();
      removeTempDir(this.dir);
    })();
    return this.closing;
  }

  private forceClose(): void {
    this.forced = true;
    const error = new BridgeClosedError();
    for (const job of [...this.queue]) job.settle({ error });
    for (const m of this.members.values()) for (const job of [...m.inFlight.values()]) job.settle({ error });
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

  /** Takes a job off the queue or its worker (telling the worker to drop it), once it is settled. */
  private detach(job: Job, cancelOnWorker: boolean): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.roomWaiters.shift()?.();
    }
    const member = job.member;
    if (member?.inFlight.delete(job.id) && cancelOnWorker) {
      void this.send(member, encodeMessage({ id: job.id, ctl: "cancel" })).catch(() => {});
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
      best.inFlight.set(job.id, job);
      best.lastUsed = Date.now();
      const frames = encodeMessage({ id: job.id, op: job.op, args: job.args, deadlineMs: Math.max(0, job.deadline - Date.now()) }, job.arrays);
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
      } else job.settle({ error });
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

  private tick(): void {
    const now = Date.now();
    const { liveness, heartbeatMs } = WIRE.control;
    const limit = liveness * heartbeatMs;
    for (const m of [...this.members.values()]) {
      if (now - m.lastSeen > limit) {
        this.bury(m, new WorkerDiedError(null, null, m.process?.stderrTail() ?? "", `missed ${liveness} heartbeats (stuck or unreachable)`));
      } else void this.send(m, encodeMessage({ id: null, ctl: "heartbeat" })).catch(() => {});
    }
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const [identity, ...frames] of this.router) this.receive(identity!, frames);
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
    if (member) member.lastSeen = Date.now();
    if (header.ctl === "ready") {
      this.join(id, identity, header.info as WorkerInfo, header.token as string | null);
    } else if (header.ctl === "heartbeat") {
      // A worker we buried (e.g. it overstayed and recovered) must not linger unaccounted for.
      if (!member) void this.sendRaw([identity, ...encodeMessage({ id: null, ctl: "disconnect" })]).catch(() => {});
    } else if (member && typeof header.id === "number") {
      const job = member.inFlight.get(header.id);
      if (!job) return; // timed out or cancelled meanwhile
      job.settle(replyOutcome(message));
    }
  }

  private join(id: string, identity: Buffer, info: WorkerInfo, token: string | null): void {
    if (this.closing) return;
    const proc = token ? this.processes.get(token) ?? null : null;
    if (proc) this.processes.delete(token!);
    this.members.set(id, { id, identity, info, inFlight: new Map(), lastSeen: Date.now(), lastUsed: 0, process: proc });
    for (const waiter of this.readyWaiters.splice(0)) waiter();
    this.pump();
  }
}

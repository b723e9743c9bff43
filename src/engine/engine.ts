import { randomBytes } from "node:crypto";
import { BridgeClosedError, MessageTooLargeError, WireError, WireVersionError, WorkerDiedError, WorkerStartError } from "../errors.js";
import type { CurveServerKeys } from "../link/curve.js";
import type { IncomingMessage, Link } from "../link/link.js";
import { shmAddon } from "../native.js";
import { type Message, decodeMessage, encodeControl, messageBytes, replyIdOf } from "../wire/codec.js";
import type { NDArray } from "../wire/ndarray.js";
import { HEARTBEAT_MS, IDEMPOTENT_OPS, LIVENESS, WIRE_VERSION } from "../wire/protocol.js";
import type { WorkerInfo } from "../worker/info.js";
import { sweepOnce } from "../worker/private-dir.js";
import type { ExitInfo } from "../worker/process.js";
import { type Reply, type RequestOptions, replyOutcome } from "../worker/replies.js";
import { Deadlines } from "./deadlines.js";
import { type LocalWorkerOptions, localWorkers } from "./local-workers.js";
import { type Job, type Member, Members } from "./members.js";
import { PendingRequest } from "./pending.js";
import { WaitQueue } from "./queue.js";
import type { WorkerFactory, WorkerHandle, Workers } from "./workers.js";
import { ZeroMqEndpoints } from "./zeromq-endpoints.js";

/** How an engine schedules and supervises. */
export interface EngineOptions {
  /** Requests sent ahead to one worker (it runs them one at a time). */
  perWorkerInFlight: number;
  /** Requests waiting for a free worker before the engine pushes back. */
  maxQueue: number;
  whenFull: "wait" | "reject";
  /** Deadline of requests that set no timeout; it reaches the worker too. */
  defaultTimeoutMs: number;
  maxMessageBytes: number;
  /**
   * What a lost local worker means: `replace` it (a Pool), or `fail`: the engine is done, every request
   * in flight and every later one rejects with why (a Bridge, whose worker holds state).
   */
  whenLost: "replace" | "fail";
  /** How the engine's own worker processes start (the router endpoint and CURVE keys it fills in). */
  workers: Omit<LocalWorkerOptions, "endpoint" | "curve">;
  /** Local worker processes started at once. */
  size: number;
  /** How long start() waits for their `ready`. */
  startTimeoutMs: number;
  /** Endpoints remote workers connect to (ZeroMQ). Non-loopback TCP needs `curve`. */
  listen?: readonly string[];
  curve?: CurveServerKeys;
  /** Where the engine's own workers come from; default: processes on this machine, as `workers` says. */
  workerFactory?: WorkerFactory;
}

/** Options of one request. */
export interface EngineRequestOptions extends RequestOptions {
  /** Retry once on another worker if this one dies. Default: true for the ops in wire.json `idempotentOps`. */
  idempotent?: boolean;
}

/** Counters since start. */
export interface EngineStats {
  replaced: number;
  retried: number;
  diedWithRequests: number;
  /** Heartbeat intervals some worker stayed silent through. */
  heartbeatMisses: number;
  /** Bytes on the links, all frames counted. */
  bytesSent: number;
  bytesReceived: number;
}

/** Who the engine tells about requests (the serving layer's metrics and batch routing). */
export interface EngineObserver {
  dispatched(memberId: string, request: PendingRequest): void;
}

/** A worker the engine talks to, from its first message: a member once it said `ready`. */
interface Peer {
  link: Link;
  process: WorkerHandle | null;
  member: Member | null;
}

/**
 * The one request engine under {@link Bridge} (a pool of one) and {@link Pool}: pending requests
 * (ids, deadlines, abort, cancel, settled exactly once), the queue and least-loaded dispatch, workers
 * joining by `ready`, supervision (death, hang detection by heartbeat over any link, retry of
 * idempotent requests), and draining. It knows links only as {@link Link}s.
 */
export class RequestEngine {
  private readonly members = new Members();
  private readonly queue: WaitQueue<Job>;
  private readonly local: Workers;
  private readonly peers = new Map<WorkerHandle, Peer>();
  /** Every request's deadline, on one timer. */
  private readonly deadlines = new Deadlines();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly heartbeat: NodeJS.Timeout;
  private nextId = 1;
  private closing = false;
  private forced = false;
  /** With `whenLost: fail`: why the engine stopped; every later request rejects with it. */
  private failure: Error | null = null;
  /** Who awaits {@link failed}, told when the engine fails. */
  private readonly failureWaiters: ((error: Error) => void)[] = [];
  /** Callers waiting for workers (their rejects), told when the engine fails or closes. */
  private readonly workerWaiters = new Set<(error: Error) => void>();
  readonly stats: EngineStats = { replaced: 0, retried: 0, diedWithRequests: 0, heartbeatMisses: 0, bytesSent: 0, bytesReceived: 0 };
  observer: EngineObserver | null = null;

  private constructor(
    private readonly options: EngineOptions,
    /** ZeroMQ: where remote workers, and local ones on the ZeroMQ link, connect; null if none do. */
    private readonly zeromq: ZeroMqEndpoints | null,
  ) {
    this.queue = new WaitQueue(options.maxQueue, options.whenFull);
    const factory = options.workerFactory ?? localWorkers(options.workers);
    this.local = factory({ endpoint: zeromq?.localEndpoint ?? undefined, curve: zeromq?.localCurveKeys ?? null }, (proc, exit) => this.localExited(proc, exit));
    // The interval and the misses allowed are protocol constants: workers heartbeat on the same clock.
    this.heartbeat = setInterval(() => this.tick(), HEARTBEAT_MS);
  }

  /**
   * Binds the endpoints, starts `size` local workers and waits for their `ready`.
   * @param beforeWorkers runs once the engine exists, before any worker starts (to attach an observer).
   * @throws {WorkerStartError} when they do not all join in time, or (`whenLost: fail`) one dies first.
   */
  static async start(given: EngineOptions, beforeWorkers?: (engine: RequestEngine) => void): Promise<RequestEngine> {
    sweepOnce();
    const options = { ...given, workers: { ...given.workers, link: given.workers.link ?? (shmAddon() ? "local" : "zeromq") } } satisfies EngineOptions;
    const zeromq = await ZeroMqEndpoints.prepare({
      localWorkers: options.workers.link === "zeromq" && options.size > 0,
      listen: options.listen,
      curve: options.curve,
      maxMessageBytes: options.maxMessageBytes,
    });
    const engine = new RequestEngine(options, zeromq);
    beforeWorkers?.(engine);
    try {
      await zeromq?.open(
        (peer, message) => engine.receive({ link: peer, process: null, member: null }, message),
        (error) => engine.fail(error), // no worker can reach it any more: refuse what comes
      );
      for (let i = 0; i < options.size; i++) engine.spawn();
      await engine.waitForWorkers(options.size, options.startTimeoutMs);
      return engine;
    } catch (e) {
      await engine.close(true).catch(() => {});
      throw e;
    }
  }

  /** Starts a local worker process; it serves once its `ready` arrives. */
  private spawn(): void {
    const { process, link } = this.local.spawn();
    if (!link) return; // a ZeroMQ worker: its `ready` comes through the router, with its token
    const peer: Peer = { link, process, member: null };
    this.peers.set(process, peer);
    link.start(
      (message) => this.receive(peer, message),
      (error) => this.lose(peer, new WorkerDiedError(null, null, process.stderrTail(), `became unreachable: ${error.message}`)),
      // Part of a long message counts as a sign of life: its heartbeats wait behind it on the socket.
      () => {
        if (peer.member) peer.member.heard = true;
      },
    );
  }

  get memberList(): Member[] {
    return this.members.all();
  }

  get size(): number {
    return this.members.size;
  }

  /** Members that take new requests: all but the leaving. */
  get available(): number {
    return this.members.available;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** True once a forced close (or a failure) settled everything. */
  get isForced(): boolean {
    return this.forced;
  }

  get inFlight(): number {
    return this.members.all().reduce((n, m) => n + m.inFlight.size, 0);
  }

  /** Resolves once at least `count` workers are live; rejects if the engine fails or closes first. */
  waitForWorkers(count: number, timeoutMs: number): Promise<void> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      this.workerWaiters.add(reject);
      // Once it settles, a later failure or close has nothing to tell it.
      this.members.waitFor(count, timeoutMs).then(resolve, reject).finally(() => this.workerWaiters.delete(reject));
    });
  }

  /** Resolves with why the engine failed (`whenLost: fail`): the worker was lost. */
  get failed(): Promise<Error> {
    return new Promise((resolve) => (this.failure ? resolve(this.failure) : this.failureWaiters.push(resolve)));
  }

  /** Queues one request for the least-loaded worker. */
  call<R = Record<string, unknown>>(op: string, args: Record<string, unknown> = {}, arrays: readonly NDArray[] = [], options: EngineRequestOptions = {}): Promise<Reply<R>> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    let job: Job;
    try {
      job = this.job(op, args, arrays, options, options.idempotent ?? IDEMPOTENT_OPS.has(op));
    } catch (e) {
      return Promise.reject(e);
    }
    try {
      if (this.queue.offer(job)) this.pump();
      else {
        void this.queue
          .pushWhenRoom(job, () => this.closing || this.failure !== null, () => job.request.isSettled)
          .then(() => this.pump(), (error: Error) => job.request.settle({ error: this.failure ?? error }));
      }
    } catch (error) {
      job.request.settle({ error: error as Error }); // OverloadedError
    }
    return job.request.promise as Promise<Reply<R>>;
  }

  /**
   * Sends one request to the member `memberId`, past the queue; never retried elsewhere.
   * @param ahead it goes ahead of a request being dispatched to that member (a served model's load):
   *   part of work already accepted, so it is sent while the engine drains too, to a leaving member as well.
   */
  callOn<R = Record<string, unknown>>(memberId: string, op: string, args: Record<string, unknown> = {}, arrays: readonly NDArray[] = [], options: RequestOptions = {}, ahead = false): Promise<Reply<R>> {
    const refused = this.refusal(ahead);
    if (refused) return Promise.reject(refused);
    const member = this.members.get(memberId);
    if (!member) return Promise.reject(new WorkerDiedError(null, null, "", `${memberId} is not a live worker`));
    if (member.leaving && !ahead) return Promise.reject(new WorkerDiedError(null, null, "", `${memberId} is leaving: a stop signal reached it`));
    let job: Job;
    try {
      job = this.job(op, args, arrays, options, false);
    } catch (e) {
      return Promise.reject(e);
    }
    job.attempts = 1;
    this.dispatch(job, member);
    return job.request.promise as Promise<Reply<R>>;
  }

  /** Drains what is queued and in flight (unless `force`), then stops every worker. */
  async close(force: boolean, afterDrain?: () => void): Promise<void> {
    this.closing = true;
    this.queue.wakeAll(); // callers still waiting for room get none now
    // Nor do callers waiting for workers (a model load between its checks and its send, a start).
    for (const reject of this.workerWaiters) reject(new BridgeClosedError());
    if (force) this.forceClose(new BridgeClosedError());
    else this.pump(); // leaving workers with room take the queue now
    await this.idle();
    this.forceClose(new BridgeClosedError());
    afterDrain?.();
    clearInterval(this.heartbeat);
    this.deadlines.clear();
    for (const m of this.members.all()) await this.send(m.link, encodeControl("disconnect")).catch(() => {});
    await Promise.all(this.members.all().map((m) => m.process?.stop()));
    await Promise.all([...this.peers.keys()].map((p) => p.stop()));
    await this.local.stopStarting();
    for (const m of this.members.all()) m.link.close();
    this.members.clear();
    this.zeromq?.close();
  }

  /** Settles everything queued and in flight with `error` (a forced close). */
  forceClose(error: Error): void {
    this.forced = true;
    this.queue.wakeAll();
    for (const job of this.queue.snapshot()) job.request.settle({ error });
    for (const m of this.members.all()) for (const job of [...m.inFlight.values()]) job.request.settle({ error });
  }

  /** Why a new request is refused, if it is: a failed engine, or a closing one (`ahead`: only once the close is forced). */
  private refusal(ahead = false): Error | null {
    if (this.failure) return this.failure;
    if (ahead ? this.forced : this.closing) return new BridgeClosedError();
    return null;
  }

  /** @throws what PendingRequest refuses before anything is sent (over the cap, bad bools, aborted). */
  private job(op: string, args: Record<string, unknown>, arrays: readonly NDArray[], options: RequestOptions, idempotent: boolean): Job {
    const limits = { timeoutMs: options.timeoutMs ?? this.options.defaultTimeoutMs, signal: options.signal, maxMessageBytes: this.options.maxMessageBytes, onProgress: options.onProgress };
    // The callback runs only once the request settles, after `job` below exists.
    const request = new PendingRequest(this.nextId++, op, args, arrays, limits, this.deadlines, (_, gaveUp) => {
      this.detach(job, gaveUp);
      this.pump();
    });
    const job: Job = { request, idempotent, attempts: 0, member: null };
    return job;
  }

  /** Resolves when nothing is queued or in flight (at once after a forced close, which settles it all). */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.isIdle() ? resolve() : this.idleWaiters.push(check));
      check();
    });
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.members.idle;
  }

  /** Takes a settled job off the queue or its worker; `cancelOnWorker` tells the worker to drop it (we gave up on it). */
  private detach(job: Job, cancelOnWorker: boolean): void {
    this.queue.remove(job);
    const member = job.member;
    // A request still waiting on its link is taken back; one that left is cancelled on the worker.
    if (member?.inFlight.delete(job.request.id) && cancelOnWorker && !member.link.withdraw?.(job.request.id)) {
      void this.send(member.link, encodeControl("cancel", job.request.id)).catch(() => {});
    }
    job.member = null;
    if (member?.leaving) this.letGo(member);
    if (this.isIdle()) for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  /** Sends queued jobs to the least-loaded workers with room. */
  private pump(): void {
    while (this.queue.length > 0 && !this.forced) {
      const member = this.members.leastLoaded(this.options.perWorkerInFlight, this.closing);
      if (!member) return;
      const job = this.queue.shift()!;
      if (job.request.isSettled) continue; // gave up while it waited
      job.attempts++;
      this.dispatch(job, member);
    }
  }

  private dispatch(job: Job, member: Member): void {
    const { request } = job;
    let encoded: { frames: Buffer[]; bytes: number };
    try {
      encoded = request.encode();
    } catch (error) {
      request.settle({ error: error as Error }); // over the cap, or bad bool data: nothing is sent
      return;
    }
    job.member = member;
    member.inFlight.set(request.id, job);
    member.lastUsed = Date.now();
    this.observer?.dispatched(member.id, request);
    this.send(member.link, encoded.frames, request.id, encoded.bytes).catch((e: Error) => {
      if (member.link.closed) this.bury(member, new WorkerDiedError(null, null, member.process?.stderrTail() ?? "", `became unreachable: ${e.message}`));
      else request.settle({ error: new WireError(`could not send ${request.op}: ${e.message}`) });
    });
  }

  private send(link: Link, frames: Buffer[], requestId: number | null = null, bytes = messageBytes(frames)): Promise<void> {
    this.stats.bytesSent += bytes;
    return link.send(frames, requestId);
  }

  /** One message from a peer: a join, a heartbeat, a progress report or a reply. It adopts or releases `incoming`. */
  private receive(peer: Peer, incoming: IncomingMessage): void {
    const size = messageBytes(incoming.frames);
    this.stats.bytesReceived += size;
    let message: Message;
    try {
      message = decodeMessage(incoming.frames);
    } catch (e) {
      incoming.release();
      if (e instanceof WireVersionError && !peer.member) return this.refuse(peer, `a worker that speaks ${e.message}`);
      // The header's fixed fields may still say which request it answers: that request fails now, not at its timeout.
      const id = incoming.frames[0] ? replyIdOf(incoming.frames[0]) : null;
      const job = id !== null ? peer.member?.inFlight.get(id) : undefined;
      if (job) return job.request.settle({ error: new WireError(`${job.request.op}: the worker's reply could not be read: ${(e as Error).message}`) });
      process.emitWarning(`tfbridge: dropped an unreadable message: ${(e as Error).message}`);
      return;
    }
    const { header } = message;
    const member = peer.member;
    if (member) member.heard = true;
    if (header.ctl === "ready") return this.join(peer, header);
    if (header.ctl === "heartbeat") {
      // A ZeroMQ worker we counted as gone (an outage, a stall) is alive after all: ask it to announce
      // itself again rather than lose it. While closing, tell it to stop instead.
      if (!member) void this.send(peer.link, encodeControl(this.closing ? "disconnect" : "rejoin")).catch(() => {});
      return;
    }
    if (header.ctl === "leaving") {
      // One the engine already counts gone has nothing to finish here.
      if (member) this.leave(member);
      else void this.send(peer.link, encodeControl("disconnect")).catch(() => {});
      return;
    }
    const job = typeof header.id === "number" && member ? member.inFlight.get(header.id) : undefined;
    if (header.ctl === "progress") {
      job?.request.progress(String(header.phase));
      return;
    }
    if (!job) return incoming.release(); // not ours, or timed out or cancelled meanwhile
    if (size > this.options.maxMessageBytes) {
      incoming.release();
      job.request.settle({ error: new MessageTooLargeError(`${job.request.op}: a reply of ${size} bytes is over the ${this.options.maxMessageBytes}-byte message cap`) });
      return;
    }
    const outcome = replyOutcome(message);
    if ("reply" in outcome) outcome.reply.arrays = incoming.adopt(outcome.reply.arrays);
    else incoming.release();
    job.request.settle(outcome);
  }

  /** A worker of another wire version would misread requests: it does not join, and is told to go. */
  private refuse(peer: Peer, why: string): void {
    process.emitWarning(`tfbridge: refused ${why}`);
    if (peer.process && this.options.whenLost === "fail") this.fail(new WorkerStartError(`refused ${why}`));
    void this.send(peer.link, encodeControl("disconnect")).catch(() => {});
  }

  private join(peer: Peer, header: Record<string, unknown>): void {
    if (this.closing) return;
    const info = header.info as Partial<WorkerInfo> | null;
    if (typeof info !== "object" || info === null || info.protocol !== WIRE_VERSION) {
      return this.refuse(peer, `a worker that speaks wire version ${JSON.stringify(info?.protocol)}, not ${WIRE_VERSION}`);
    }
    if (peer.member) return; // said twice
    const token = typeof header.token === "string" ? header.token : null;
    let proc = peer.process;
    if (!proc && token) proc = this.local.claim(token) ?? null;
    if (proc) this.local.joined(proc);
    const id = peer.link.memberId ?? `local-${info.pid}-${randomBytes(4).toString("hex")}`;
    peer.member = this.members.join(id, peer.link, info as WorkerInfo, token, proc ?? undefined);
    if (!peer.process) {
      peer.process = peer.member.process;
      peer.link.start((message) => this.receive(peer, message), () => {});
    }
    this.pump();
  }

  /**
   * A worker asked to stop (SIGTERM, Ctrl-C) says `leaving`: it gets no new requests, answers those it
   * holds, and goes. While the engine closes it drains the queue like any worker instead: the stop
   * may be for the whole service.
   */
  private leave(member: Member): void {
    member.leaving = true;
    this.letGo(member);
  }

  /** A leaving member that holds no request is told `disconnect` and goes; a worker this engine started is replaced. */
  private letGo(member: Member): void {
    if (member.inFlight.size > 0 || this.closing) return;
    void this.send(member.link, encodeControl("disconnect")).catch(() => {});
    this.bury(member, new WorkerDiedError(null, null, member.process?.stderrTail() ?? "", "left: a stop signal reached it"));
  }

  /** A local worker process ended: bury its member, or, if it never joined, start another or fail. */
  private localExited(proc: WorkerHandle, { code, signal }: ExitInfo): void {
    const peer = this.peers.get(proc);
    this.peers.delete(proc);
    const member = peer?.member ?? this.members.running(proc);
    const error = new WorkerDiedError(code, signal, proc.stderrTail());
    if (member) return this.bury(member, error);
    peer?.link.close();
    if (this.closing) return;
    if (this.options.whenLost === "fail") return this.fail(new WorkerStartError(`the worker died while starting: ${error.message}`));
    process.emitWarning(`tfbridge: a worker exited before joining (code ${code}, signal ${signal}); starting another in 1 s\n${proc.stderrTail()}`);
    this.respawn(1000);
  }

  /** Starts a replacement after `delayMs`; one that cannot start (no memory, no folder) is tried again. */
  private respawn(delayMs: number): void {
    setTimeout(() => {
      if (this.closing || this.failure) return;
      try {
        this.spawn();
      } catch (e) {
        process.emitWarning(`tfbridge: could not start a worker (${(e as Error).message}); trying again in 1 s`);
        this.respawn(1000);
      }
    }, delayMs).unref();
  }

  /** A link gave out before its process's exit named the cause. */
  private lose(peer: Peer, error: WorkerDiedError): void {
    if (peer.member) this.bury(peer.member, error);
    // Not joined yet: its exit, reported as any other, starts another or fails the start.
    else if (peer.process && !this.closing) void peer.process.stop("SIGKILL");
  }

  /** A worker is gone: retry its idempotent jobs once elsewhere, reject the rest, and replace it or fail. */
  private bury(member: Member, error: WorkerDiedError): void {
    if (!this.members.remove(member)) return;
    member.link.close();
    if (member.inFlight.size > 0) this.stats.diedWithRequests++;
    const jobs = [...member.inFlight.values()];
    member.inFlight.clear();
    const lastOfAFailingEngine = this.options.whenLost === "fail" && member.process !== null && !this.closing;
    for (const job of jobs) {
      job.member = null;
      if (job.idempotent && job.attempts < 2 && !this.forced && !lastOfAFailingEngine) {
        this.stats.retried++;
        this.queue.unshift(job);
      } else job.request.settle({ error });
    }
    if (member.process) {
      this.peers.delete(member.process);
      this.local.retire(member.process);
      if (lastOfAFailingEngine) return this.fail(error);
      if (!this.closing) {
        this.stats.replaced++;
        this.respawn(0);
      }
    }
    this.pump();
  }

  /** The engine is done (`whenLost: fail`): everything queued and later rejects with `error`. */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const notify of this.failureWaiters.splice(0)) notify(error);
    for (const reject of this.workerWaiters) reject(error);
    this.forceClose(error);
  }

  /** Every heartbeat interval: buries the workers silent for `liveness` intervals, heartbeats the rest. */
  private tick(): void {
    const { silent, alive } = this.members.tick();
    for (const m of [...silent, ...alive]) if (m.missed > 0) this.stats.heartbeatMisses++;
    for (const m of silent) this.bury(m, new WorkerDiedError(null, null, m.process?.stderrTail() ?? "", `missed ${LIVENESS} heartbeats (stuck or unreachable)`));
    for (const m of alive) void this.send(m.link, encodeControl("heartbeat")).catch(() => {});
  }
}

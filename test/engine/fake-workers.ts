import type { EngineOptions } from "../../src/engine/engine.js";
import type { RouterAddress, Spawned, WorkerFactory, WorkerHandle, Workers } from "../../src/engine/workers.js";
import type { IncomingMessage, Link } from "../../src/link/link.js";
import { type Header, decodeMessage, encodeMessage } from "../../src/wire/codec.js";
import type { NDArray } from "../../src/wire/ndarray.js";
import { WIRE_VERSION } from "../../src/wire/protocol.js";
import type { ExitInfo } from "../../src/worker/process.js";

/**
 * The engine's unit-test seam (issue 19 item 4): workers that answer in-process through the real
 * codec, so supervision runs without Python or TensorFlow. A test drives each fake by hand (ready,
 * heartbeat, reply, exit) or lets it answer requests as they come (`autoReply`); nothing here sleeps.
 */

/** A message the engine delivered to a fake worker, or one a fake delivered to the engine. */
class FakeMessage implements IncomingMessage {
  adopted = false;
  released = false;
  constructor(readonly frames: Uint8Array[]) {}

  adopt(arrays: NDArray[]): NDArray[] {
    this.adopted = true;
    return arrays;
  }

  release(): void {
    this.released = true;
  }
}

export class FakeWorker implements Link, WorkerHandle {
  readonly kind = "local";
  closed = false;
  stopped: NodeJS.Signals | null = null;
  readonly pid: number;
  readonly proxyEndpoint = "";
  /** Every message the engine sent, decoded. */
  readonly received: Header[] = [];
  /** Every message this fake sent the engine, to see whether the engine adopted or released it. */
  readonly delivered: FakeMessage[] = [];
  /** Answer each request at once (in a microtask) with its arrays echoed back, as the `echo` op does. */
  autoReply = false;
  private receive: ((message: IncomingMessage) => void) | null = null;
  private ended: ((error: Error) => void) | null = null;

  constructor(
    private readonly pool: FakeWorkers,
    pid: number,
    readonly memberId: string | null,
  ) {
    this.pid = pid;
  }

  // --- the Link the engine sees ---

  send(frames: Buffer[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error("fake link closed"));
    const { header, arrays } = decodeMessage(frames);
    this.received.push(header);
    if (this.autoReply && typeof header.op === "string") queueMicrotask(() => this.reply(header.id!, { echoed: header.op }, arrays));
    return Promise.resolve();
  }

  start(receive: (message: IncomingMessage) => void, ended: (error: Error) => void): void {
    this.receive = receive;
    this.ended = ended;
  }

  close(): void {
    this.closed = true;
  }

  // --- the process the engine sees ---

  stderrTail(): string {
    return `fake worker ${this.pid}`;
  }

  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<ExitInfo> {
    this.stopped ??= signal;
    this.closed = true;
    return Promise.resolve({ code: null, signal });
  }

  // --- what the test makes the worker do ---

  /** Sends `fields` (and arrays) as the worker would, through the real codec. */
  deliver(fields: Omit<Header, "v" | "arrays">, arrays: NDArray[] = []): FakeMessage {
    const message = new FakeMessage(encodeMessage(fields, arrays));
    this.delivered.push(message);
    this.receive!(message);
    return message;
  }

  ready(protocol = WIRE_VERSION): void {
    this.deliver({ id: null, ctl: "ready", info: { protocol, pid: this.pid, python: "", numpy: "", tensorflow: "", keras: "", ops: [] }, token: null });
  }

  heartbeat(): void {
    this.deliver({ id: null, ctl: "heartbeat", busy: 0 });
  }

  /** A stop signal reached it: it says so, as the worker's serving loop does. */
  leaving(): void {
    this.deliver({ id: null, ctl: "leaving" });
  }

  reply(id: number, result: Record<string, unknown> = {}, arrays: NDArray[] = []): FakeMessage {
    return this.deliver({ id, ok: true, result }, arrays);
  }

  /** The process ends: the engine hears it as it hears a real exit. */
  exit(code: number | null = 1, signal: NodeJS.Signals | null = null): void {
    this.closed = true;
    this.pool.exited(this, { code, signal });
  }

  /** The link breaks before the exit is known (the socket closed). */
  breakLink(error = new Error("socket closed")): void {
    this.closed = true;
    this.ended!(error);
  }

  /** Requests the engine sent, ignoring control messages; `ctl` picks control messages of that kind instead. */
  requests(ctl?: string): Header[] {
    return this.received.filter((h) => (ctl ? h.ctl === ctl : typeof h.op === "string"));
  }
}

/** A {@link WorkerFactory} of {@link FakeWorker}s; `spawned` lists every one it started, in order. */
export class FakeWorkers implements Workers {
  readonly spawned: FakeWorker[] = [];
  /** Each spawn's link names its member (as a ZeroMQ routing id does) when set. */
  memberIds = false;
  /** Applied to each new fake as it starts (e.g. to make it answer by itself). */
  onSpawn: (worker: FakeWorker) => void = () => {};
  private onExit: ((proc: WorkerHandle, exit: ExitInfo) => void) | null = null;
  readonly retired: FakeWorker[] = [];

  readonly factory: WorkerFactory = (_router: RouterAddress, onExit) => {
    this.onExit = onExit;
    return this;
  };

  spawn(): Spawned {
    const n = this.spawned.length + 1;
    const worker = new FakeWorker(this, 1000 + n, this.memberIds ? `fake-${n}` : null);
    this.spawned.push(worker);
    this.onSpawn(worker);
    return { process: worker, link: worker };
  }

  claim(): WorkerHandle | undefined {
    return undefined; // no fake joins through a router
  }

  joined(): void {}

  retire(proc: WorkerHandle): void {
    this.retired.push(proc as FakeWorker);
    void proc.stop("SIGKILL");
  }

  stopStarting(): Promise<void> {
    return Promise.resolve();
  }

  /** @internal */
  exited(worker: FakeWorker, exit: ExitInfo): void {
    if (!this.retired.includes(worker)) this.onExit!(worker, exit);
  }
}

/** Engine options for a test: a pool of `size` fakes, replaced when lost, no queue limit unless given. */
export function fakeEngineOptions(workers: FakeWorkers, given: Partial<EngineOptions> = {}): EngineOptions {
  return {
    perWorkerInFlight: 4,
    maxQueue: Infinity,
    whenFull: "wait",
    defaultTimeoutMs: Infinity,
    maxMessageBytes: 1 << 20,
    whenLost: "replace",
    workers: { link: "local", maxMessageBytes: 1 << 20 },
    size: 1,
    startTimeoutMs: 10_000,
    workerFactory: workers.factory,
    ...given,
  };
}

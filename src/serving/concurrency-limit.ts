import { Deadlines, type Expiring } from "../engine/deadlines.js";
import { OverloadedError, RequestAbortedError, RequestTimeoutError } from "../errors.js";
import type { BatchQueueLimits } from "./batcher.js";

/** A caller waiting for a slot: its deadline on the limit's one timer, its signal, and how it goes on. */
class Waiter implements Expiring {
  isSettled = false;
  readonly deadline: number;
  private readonly watched: boolean;
  private readonly onAbort = () => this.finish(new RequestAbortedError(this.op, this.signal!.reason));

  constructor(
    private readonly op: string,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly deadlines: Deadlines,
    /** Called once: with null when the slot is its, or with the error it gave up with. */
    private readonly onSettled: (error: Error | null) => void,
  ) {
    this.deadline = Date.now() + timeoutMs;
    this.watched = deadlines.add(this);
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  expire(): void {
    this.finish(new RequestTimeoutError(this.op, this.timeoutMs), true);
  }

  finish(error: Error | null, expired = false): void {
    if (this.isSettled) return;
    this.isSettled = true;
    if (this.watched && !expired) this.deadlines.settled();
    this.signal?.removeEventListener("abort", this.onAbort);
    this.onSettled(error);
  }
}

/**
 * At most `limit` requests of one served version on the workers at once (`maxConcurrentRequests`, for
 * versions that do not batch; batching has `maxConcurrentRuns`): the rest wait in arrival order, each
 * within its own deadline and signal, and count against the pool's queue bound (`whenFull: "reject"`
 * refuses one more with OverloadedError, HTTP 429).
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private readonly deadlines = new Deadlines();

  constructor(
    /** Requests on the workers at once. */
    readonly limit: number,
    private readonly queue: BatchQueueLimits,
  ) {}

  /**
   * `send(timeoutMs)` once a slot is free, given what its wait left of `timeoutMs`.
   * @throws {OverloadedError} when the queue is full and its limits say reject; {@link RequestTimeoutError}
   * or {@link RequestAbortedError} for a caller whose deadline or signal came first.
   */
  async run<T>(op: string, limits: { timeoutMs: number; signal?: AbortSignal }, send: (timeoutMs: number) => Promise<T>): Promise<T> {
    if (this.running >= this.limit || this.waiting.length > 0) {
      if (limits.signal?.aborted) throw new RequestAbortedError(op, limits.signal.reason);
      if (this.waiting.length >= this.queue.maxQueued && this.queue.whenFull === "reject") {
        throw new OverloadedError(this.waiting.length, `${this.waiting.length} requests wait for one of the version's ${this.limit} slots (maxConcurrentRequests) and the pool's queue is full`);
      }
      const arrived = Date.now();
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = new Waiter(op, limits.timeoutMs, limits.signal, this.deadlines, (error) => {
          if (error === null) return resolve();
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(error);
        });
        this.waiting.push(waiter);
      });
      // The slot passed from the caller that freed it; the wait counts against this caller's deadline.
      limits = { ...limits, timeoutMs: Math.max(1, limits.timeoutMs - (Date.now() - arrived)) };
    } else this.running++;
    try {
      return await send(limits.timeoutMs);
    } finally {
      this.next();
    }
  }

  /** A slot came free: the longest waiting caller takes it, or it stays free. */
  private next(): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter.finish(null);
    else this.running--;
  }
}

import { Deadlines } from "../engine/deadlines.js";
import { Wait } from "../engine/wait.js";
import { OverloadedError, RequestAbortedError, RequestTimeoutError } from "../errors.js";
import type { BatchQueueLimits } from "./batcher.js";

/** A caller waiting for a slot: its deadline on the limit's one timer, its signal, and how it goes on. */
class Waiter extends Wait {
  constructor(
    private readonly op: string,
    private readonly timeoutMs: number,
    signal: AbortSignal | undefined,
    deadlines: Deadlines,
    /** Called once: with null when the slot is its, or with the error it gave up with. */
    private readonly onSettled: (error: Error | null) => void,
  ) {
    super(timeoutMs, signal, deadlines);
  }

  expire(): void {
    this.finish(new RequestTimeoutError(this.op, this.timeoutMs), true);
  }

  protected aborted(reason: unknown): void {
    this.finish(new RequestAbortedError(this.op, reason));
  }

  finish(error: Error | null, expired = false): void {
    if (this.end(expired)) this.onSettled(error);
  }
}

/**
 * At most `limit` requests of one served version on the workers at once (`maxConcurrentRequests`, for
 * versions that do not batch; batching has `maxConcurrentRuns`): the rest wait in arrival order, each
 * within its own deadline and signal, in a queue bounded as the pool's is (`maxQueue`; `whenFull: "reject"`
 * refuses one more with OverloadedError, HTTP 429).
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private readonly deadlines = new Deadlines();

  /** Requests on the workers at once (Infinity once released). */
  get maxRunning(): number {
    return this.limit;
  }

  constructor(
    /** Requests on the workers at once. */
    private limit: number,
    private readonly queue: BatchQueueLimits,
  ) {}

  /**
   * `send(timeoutMs)` once a slot is free, given what its wait left of `timeoutMs`; a caller that waited
   * is sent from within the call that frees its slot, so a pool that closes sends it before it stops
   * taking requests.
   * @throws {OverloadedError} when the queue is full and its limits say reject; {@link RequestTimeoutError}
   * or {@link RequestAbortedError} for a caller whose deadline or signal came first.
   */
  run<T>(op: string, limits: { timeoutMs: number; signal?: AbortSignal }, send: (timeoutMs: number) => Promise<T>): Promise<T> {
    const { timeoutMs, signal } = limits;
    const go = (left: number): Promise<T> =>
      send(left)
        // The deadline the caller gave, not what its wait left of it.
        .catch((error: unknown) => Promise.reject(error instanceof RequestTimeoutError ? new RequestTimeoutError(op, timeoutMs) : error))
        .finally(() => this.next());
    if (this.running < this.limit && this.waiting.length === 0) {
      this.running++;
      return go(timeoutMs);
    }
    if (signal?.aborted) return Promise.reject(new RequestAbortedError(op, signal.reason));
    if (this.waiting.length >= this.queue.maxQueued && this.queue.whenFull === "reject") {
      return Promise.reject(new OverloadedError(this.waiting.length, `${this.waiting.length} requests wait for one of the version's ${this.limit} slots (maxConcurrentRequests) and its queue is full`));
    }
    const arrived = Date.now();
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = new Waiter(op, timeoutMs, signal, this.deadlines, (error) => {
        if (error !== null) {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          return reject(error);
        }
        // The slot passed from the caller that freed it; the wait counts against this caller's deadline.
        go(Math.max(1, timeoutMs - (Date.now() - arrived))).then(resolve, reject);
      });
      this.waiting.push(waiter);
    });
  }

  /** Lets every waiting caller go now, and the limit hold no more (a closing pool drains what it accepted). */
  releaseAll(): void {
    this.limit = Infinity;
    for (const waiter of this.waiting.splice(0)) {
      this.running++;
      waiter.finish(null);
    }
  }

  /** A slot came free: the longest waiting caller takes it, or it stays free. */
  private next(): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter.finish(null);
    else this.running--;
  }
}

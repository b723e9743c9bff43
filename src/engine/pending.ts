import { MessageTooLargeError, RequestAbortedError, RequestTimeoutError } from "../errors.js";
import { encodeMessage, messageBytes } from "../wire/codec.js";
import { type NDArray, frameBytes } from "../wire/ndarray.js";
import type { ProgressEvent, Reply } from "../worker/replies.js";
import type { Deadlines } from "./deadlines.js";
import { deadlineMsLeft } from "./timers.js";
import { Wait } from "./wait.js";

/** How a request ends: with its reply, or with the typed error it rejects with. */
export type Outcome = { reply: Reply } | { error: Error };

/** The limits one request lives under. */
export interface PendingLimits {
  /** Milliseconds until it gives up; `Infinity` for never. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** The message cap, all frames counted. */
  maxMessageBytes: number;
  /** Asks the worker for its phases (see RequestOptions.onProgress). */
  onProgress?: (event: ProgressEvent) => void;
}

/**
 * One request's lifetime, the same for a Bridge's connection and a Pool: the message cap checked
 * before anything is sent, a deadline (`Infinity` and delays past 2^31 ms included) kept by the
 * engine's one {@link Deadlines} timer, an AbortSignal, and a settle that happens exactly once (a
 * {@link Wait}). `onSettled` tells the owner, with `gaveUp` true when this side gave up (timeout,
 * abort), so the owner can tell the worker to drop it.
 */
export class PendingRequest extends Wait {
  /** Resolves with the reply, rejects with the typed error; settled once. */
  readonly promise: Promise<Reply>;
  private resolve!: (reply: Reply) => void;
  private reject!: (error: Error) => void;
  /** `performance.now()` when it was made: its queue wait and latency start here. */
  readonly sentAt = performance.now();

  /**
   * @throws {MessageTooLargeError} when its arrays alone are over the cap; {@link RequestAbortedError}
   * when the signal has fired already. Nothing is set up then.
   */
  constructor(
    readonly id: number,
    readonly op: string,
    readonly args: Record<string, unknown>,
    readonly arrays: readonly NDArray[],
    private readonly limits: PendingLimits,
    deadlines: Deadlines,
    private readonly onSettled: (request: PendingRequest, gaveUp: boolean) => void,
  ) {
    if (limits.signal?.aborted) throw new RequestAbortedError(op, limits.signal.reason);
    // Arrays over the cap fail here, at once; the whole message (header and args too) is checked on
    // the one encoding that is sent (encode), rather than encoding every request twice.
    const arrayBytes = arrays.reduce((n, a) => n + frameBytes(a), 0);
    if (arrayBytes > limits.maxMessageBytes) throw tooLarge(op, arrayBytes, limits.maxMessageBytes);
    super(limits.timeoutMs, limits.signal, deadlines);
    this.promise = new Promise<Reply>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /**
   * Its frames, with the time left until its deadline as the worker's `deadlineMs`, and their size.
   * @throws {MessageTooLargeError} when the message is over the cap; {@link WireError} for bad bool data.
   */
  encode(): { frames: Buffer[]; bytes: number } {
    const frames = encodeMessage({ id: this.id, op: this.op, args: this.args, deadlineMs: deadlineMsLeft(this.deadline - Date.now()), progress: this.limits.onProgress !== undefined }, this.arrays);
    const bytes = messageBytes(frames);
    if (bytes > this.limits.maxMessageBytes) throw tooLarge(this.op, bytes, this.limits.maxMessageBytes);
    return { frames, bytes };
  }

  /** The worker entered `phase` of this request. */
  progress(phase: string): void {
    if (this.isSettled) return;
    try {
      this.limits.onProgress?.({ op: this.op, phase, elapsedMs: performance.now() - this.sentAt });
    } catch (e) {
      // The caller's callback: its mistake must not cost the replies read with this message.
      process.emitWarning(`tfbridge: an onProgress callback threw: ${(e as Error).message}`);
    }
  }

  /**
   * Ends it with `outcome`, unless it has ended already. The worker's `cancelled` reply to a request
   * this side has not given up on means its deadline passed before it ran: a timeout, as this side's
   * own timer would have said a moment later.
   */
  settle(outcome: Outcome): void {
    if ("error" in outcome && outcome.error instanceof RequestAbortedError) this.finish({ error: new RequestTimeoutError(this.op, this.limits.timeoutMs) }, false);
    else this.finish(outcome, false);
  }

  /** Its deadline passed (the engine's timer calls this). */
  expire(): void {
    this.finish({ error: new RequestTimeoutError(this.op, this.limits.timeoutMs) }, true, true);
  }

  protected aborted(reason: unknown): void {
    this.finish({ error: new RequestAbortedError(this.op, reason) }, true);
  }

  private finish(outcome: Outcome, gaveUp: boolean, expired = false): void {
    if (!this.end(expired)) return;
    this.onSettled(this, gaveUp);
    if ("reply" in outcome) this.resolve(outcome.reply);
    else this.reject(outcome.error);
  }
}

function tooLarge(op: string, bytes: number, cap: number): MessageTooLargeError {
  return new MessageTooLargeError(`${op}: a request of ${bytes} bytes is over the ${cap}-byte message cap`);
}

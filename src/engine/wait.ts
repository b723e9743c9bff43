import type { Deadlines, Expiring } from "./deadlines.js";

/**
 * Something that waits under a deadline and an AbortSignal and ends exactly once: by its deadline (its
 * owner's one {@link Deadlines} timer calls {@link expire}), by its signal ({@link aborted}), or by its
 * owner. Ending takes it off the timer and the signal. A request in flight is one, and so is a caller
 * waiting for a version's free slot.
 */
export abstract class Wait implements Expiring {
  /** `Date.now()` time it gives up at (Infinity for never). */
  readonly deadline: number;
  private ended = false;
  /** True while the deadline timer watches it. */
  private readonly watched: boolean;
  private readonly onAbort = () => this.aborted(this.signal!.reason);

  constructor(
    timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly deadlines: Deadlines,
  ) {
    this.deadline = Date.now() + timeoutMs;
    this.watched = deadlines.add(this);
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  get isSettled(): boolean {
    return this.ended;
  }

  /** Its deadline passed (the timer calls this once, unless it ended first). */
  abstract expire(): void;

  /** Its signal fired before it ended. */
  protected abstract aborted(reason: unknown): void;

  /**
   * Marks it ended: false when it had ended already, so the caller does nothing more. `expired` when the
   * timer is what ended it (the timer has dropped it then).
   */
  protected end(expired: boolean): boolean {
    if (this.ended) return false;
    this.ended = true;
    if (this.watched && !expired) this.deadlines.settled(this);
    this.signal?.removeEventListener("abort", this.onAbort);
    return true;
  }
}

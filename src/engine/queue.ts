import { BridgeClosedError, OverloadedError } from "../errors.js";

/**
 * Requests waiting for a worker: bounded, and when full, callers either wait for room or are refused
 * with OverloadedError. Retries jump the line and are never refused.
 */
export class WaitQueue<T> {
  private readonly items: T[] = [];
  private readonly roomWaiters: (() => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly whenFull: "wait" | "reject",
  ) {}

  get length(): number {
    return this.items.length;
  }

  /** The items, first to be served first. */
  snapshot(): T[] {
    return [...this.items];
  }

  /**
   * Appends `item` now if there is room (true), or says there is none (false).
   * @throws {OverloadedError} when full and set to reject.
   */
  offer(item: T): boolean {
    if (this.items.length < this.max) {
      this.items.push(item);
      return true;
    }
    if (this.whenFull === "reject") throw new OverloadedError(this.items.length);
    return false;
  }

  /**
   * Appends `item` once there is room, unless it is `gone()` by then (its caller gave up: the room
   * passes to the next waiter).
   * @throws {BridgeClosedError} when `closing()` turned true while it waited.
   */
  async pushWhenRoom(item: T, closing: () => boolean, gone: () => boolean): Promise<void> {
    do {
      await new Promise<void>((r) => this.roomWaiters.push(r));
      if (gone()) {
        this.roomWaiters.shift()?.();
        return;
      }
      if (closing()) throw new BridgeClosedError();
    } while (!this.offer(item));
  }

  /** Wakes every caller waiting for room (closing: each finds out it will get none). */
  wakeAll(): void {
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  /** Puts a retried item first in line. */
  unshift(item: T): void {
    this.items.unshift(item);
  }

  /** The next item, if any, making room for one waiting caller. */
  shift(): T | undefined {
    const item = this.items.shift();
    if (item !== undefined) this.roomWaiters.shift()?.();
    return item;
  }

  /** Takes `item` out wherever it is; true if it was there. */
  remove(item: T): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.items.splice(i, 1);
    this.roomWaiters.shift()?.();
    return true;
  }
}

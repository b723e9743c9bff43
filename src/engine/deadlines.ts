/** setTimeout's longest delay: a longer one (2^31 ms or more) fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Settled entries the heap may hold before it is rebuilt without them (when they also outnumber the live). */
const COMPACT_AFTER = 1024;

const NOTHING_FIRING: ReadonlySet<Expiring> = new Set();

/** Something with a deadline: `expire` is called once it passes, unless it settled first. */
export interface Expiring {
  /** `Date.now()` time it expires at; Infinity for never. */
  readonly deadline: number;
  readonly isSettled: boolean;
  expire(): void;
}

/**
 * Every deadline of one engine on one timer, armed for the earliest: a request costs a heap push
 * instead of a setTimeout and a clearTimeout (most requests settle long before their deadline, and
 * a settled one just stays in the heap until it surfaces or a rebuild drops it). The timer is
 * cleared whenever nothing live is left, so an idle engine keeps no process alive.
 */
export class Deadlines {
  private heap: Expiring[] = [];
  /** Entries in the heap that settled before their deadline (told by {@link settled}). */
  private stale = 0;
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Infinity;
  /** The entries being expired: out of the heap, so their settling is not the heap's. */
  private firing: ReadonlySet<Expiring> = NOTHING_FIRING;

  /** Watches `entry`; false (and nothing to undo) for one that never expires. */
  add(entry: Expiring): boolean {
    if (entry.deadline === Infinity) return false;
    this.heap.push(entry);
    this.siftUp(this.heap.length - 1);
    if (entry.deadline < this.armedFor) this.arm(entry.deadline);
    return true;
  }

  /** `entry`, which {@link add} took, settled before its deadline. */
  settled(entry: Expiring): void {
    // Popped already: it was due in the firing that runs, and another's expiry settled it.
    if (this.firing.has(entry)) return;
    this.stale++;
    if (this.stale === this.heap.length) return this.clear();
    if (this.stale > COMPACT_AFTER && this.stale * 2 > this.heap.length) {
      this.heap = this.heap.filter((e) => !e.isSettled);
      this.stale = 0;
      for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    }
  }

  /** Forgets everything (the engine closed: whatever is left settled already or never will). */
  clear(): void {
    this.heap = [];
    this.stale = 0;
    this.disarm();
  }

  private arm(at: number): void {
    this.disarm();
    this.armedFor = at;
    this.timer = setTimeout(this.fire, Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS));
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.armedFor = Infinity;
    const now = Date.now();
    const due: Expiring[] = [];
    while (this.heap.length > 0 && (this.heap[0]!.deadline <= now || this.heap[0]!.isSettled)) {
      const top = this.pop();
      if (top.isSettled) this.stale--;
      else due.push(top);
    }
    if (this.heap.length > 0) this.arm(this.heap[0]!.deadline);
    // Last: an expiry may add or settle others, those due with it included.
    this.firing = new Set(due);
    try {
      for (const entry of due) if (!entry.isSettled) entry.expire();
    } finally {
      this.firing = NOTHING_FIRING;
    }
  };

  private pop(): Expiring {
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const entry = h[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.deadline <= entry.deadline) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = entry;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const entry = h[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= h.length) break;
      if (child + 1 < h.length && h[child + 1]!.deadline < h[child]!.deadline) child++;
      if (h[child]!.deadline >= entry.deadline) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = entry;
  }
}

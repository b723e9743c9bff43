import { describe, expect, it } from "vitest";
import { Deadlines, type Expiring } from "../../src/engine/deadlines.js";

/** An entry as the engine's are: settled once, telling the timer when it was not the timer that ended it. */
class Entry implements Expiring {
  isSettled = false;
  expired = false;
  /** What its expiry also ends (a batch's other callers, say). */
  alsoEnds: Entry[] = [];

  constructor(
    private readonly deadlines: Deadlines,
    /** `Date.now()` time it expires at. */
    readonly deadline: number,
  ) {
    deadlines.add(this);
  }

  expire(): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.expired = true;
    for (const other of this.alsoEnds) other.settle();
  }

  settle(): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.deadlines.settled(this);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Deadlines: one timer for many deadlines", () => {
  it("expires each live entry once its deadline passes, and none that settled first", async () => {
    const deadlines = new Deadlines();
    const now = Date.now();
    const [a, b, c] = [new Entry(deadlines, now + 20), new Entry(deadlines, now + 40), new Entry(deadlines, now + 60)];
    b.settle();
    await sleep(120);
    expect([a.expired, b.expired, c.expired]).toEqual([true, false, true]);
  });

  it("an expiry that settles another entry due in the same firing does not cost a later entry its deadline", async () => {
    const deadlines = new Deadlines();
    // One deadline for both, so one firing takes both; the later one well after it.
    const at = Date.now() + 10;
    const first = new Entry(deadlines, at);
    const second = new Entry(deadlines, at);
    first.alsoEnds = [second];
    second.alsoEnds = [first];
    const later = new Entry(deadlines, at + 300);
    await sleep(500);
    expect(later.expired).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { Deadlines, type Expiring } from "../../src/engine/deadlines.js";

/** An entry as the engine's are: settled once, telling the timer when it was not the timer that ended it. */
class Entry implements Expiring {
  isSettled = false;
  expired = false;
  readonly deadline: number;
  /** What its expiry also ends (a batch's other callers, say). */
  alsoEnds: Entry[] = [];

  constructor(
    private readonly deadlines: Deadlines,
    inMs: number,
  ) {
    this.deadline = Date.now() + inMs;
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
    const [a, b, c] = [new Entry(deadlines, 20), new Entry(deadlines, 40), new Entry(deadlines, 60)];
    b.settle();
    await sleep(120);
    expect([a.expired, b.expired, c.expired]).toEqual([true, false, true]);
  });

  it("an expiry that settles another entry due in the same firing does not cost a later entry its deadline", async () => {
    const deadlines = new Deadlines();
    const first = new Entry(deadlines, 10);
    const second = new Entry(deadlines, 10);
    first.alsoEnds = [second];
    second.alsoEnds = [first];
    const later = new Entry(deadlines, 80);
    await sleep(200);
    expect(later.expired).toBe(true);
  });
});

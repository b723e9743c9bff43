import { describe, expect, it } from "vitest";
import { ALIGN, Allocator } from "../../src/link/allocator.js";

describe("the shared-memory allocator", () => {
  it("hands out aligned blocks, refuses what does not fit, and merges freed neighbours in any order", () => {
    const a = new Allocator(4 * ALIGN);
    const [x, y, z] = [a.alloc(1), a.alloc(ALIGN + 1), a.alloc(ALIGN)];
    expect([x, y, z]).toEqual([0, ALIGN, 3 * ALIGN]);
    expect(a.alloc(1)).toBeNull(); // full
    a.release(0, 1);
    a.release(3 * ALIGN, ALIGN);
    expect(a.alloc(2 * ALIGN)).toBeNull(); // two free blocks, not adjacent
    a.release(ALIGN, ALIGN + 1);
    expect(a.inUse).toBe(0);
    expect(a.alloc(4 * ALIGN)).toBe(0); // merged back into one
  });

  it("refuses a block freed twice", () => {
    const a = new Allocator(2 * ALIGN);
    const x = a.alloc(ALIGN)!;
    a.release(x, ALIGN);
    expect(() => a.release(x, ALIGN)).toThrow(/freed twice/);
  });
});

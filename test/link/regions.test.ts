import { readdirSync, statSync } from "node:fs";
import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import { Allocator } from "../../src/link/allocator.js";
import { ALIGN } from "../../src/link/framing.js";
import { Region } from "../../src/link/regions.js";
import { privateDir, removePrivateDir } from "../../src/worker/private-dir.js";

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

  it("refuses a size that is not a non-negative integer, and its free list stays whole", () => {
    const a = new Allocator(2 * ALIGN);
    for (const bytes of [Number.NaN, -16, 1.5, Number.POSITIVE_INFINITY]) expect(() => a.alloc(bytes), String(bytes)).toThrow(RangeError);
    expect([a.alloc(ALIGN), a.alloc(ALIGN)]).toEqual([0, ALIGN]); // nothing was taken by the refusals
  });

  it("refuses a block freed twice", () => {
    const a = new Allocator(2 * ALIGN);
    const x = a.alloc(ALIGN)!;
    a.release(x, ALIGN);
    expect(() => a.release(x, ALIGN)).toThrow(/freed twice/);
  });
});

describe("a shared-memory region", () => {
  it("is a 0600 file with an unguessable name in a 0700 folder of its own, until unlinked", () => {
    const dir = privateDir("shm");
    try {
      const [a, b] = [Region.create(dir, 4096), Region.create(dir, 4096)];
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(statSync(a.path).mode & 0o777).toBe(0o600);
      expect(basename(a.path)).toMatch(/^[\w-]{22}$/); // 16 random bytes
      expect(a.path).not.toBe(b.path);
      a.bytes[0] = 7; // mapped and writable
      a.unlink();
      b.unlink();
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      removePrivateDir(dir);
    }
  });
});

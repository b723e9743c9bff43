import { ALIGN } from "./framing.js";

/**
 * First-fit allocation of byte ranges in a fixed-size region, with neighbours merged on free.
 * Blocks are freed in any order (a caller may keep one array and drop the next); the free list
 * stays short because the region holds the few arrays of the requests in flight.
 */
export class Allocator {
  /** Free blocks as [offset, length], sorted by offset, never adjacent. */
  private readonly free: [number, number][];
  private used = 0;

  constructor(readonly size: number) {
    this.free = size > 0 ? [[0, size]] : [];
  }

  /** Bytes handed out and not yet freed. */
  get inUse(): number {
    return this.used;
  }

  /** The padded size a request of `bytes` takes. */
  static padded(bytes: number): number {
    return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  }

  /** The offset of a new block of `bytes`, or null when no free block is large enough now. */
  alloc(bytes: number): number | null {
    // NaN or a negative size would take a block and corrupt the free list for every later request.
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`a block's size must be a non-negative integer, got ${bytes}`);
    const need = Allocator.padded(bytes);
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i]!;
      if (block[1] < need) continue;
      const offset = block[0];
      if (block[1] === need) this.free.splice(i, 1);
      else {
        block[0] += need;
        block[1] -= need;
      }
      this.used += need;
      return offset;
    }
    return null;
  }

  /** Returns the block at `offset` of `bytes` (as passed to alloc). */
  release(offset: number, bytes: number): void {
    const length = Allocator.padded(bytes);
    let i = 0;
    while (i < this.free.length && this.free[i]![0] < offset) i++;
    const before = this.free[i - 1];
    const after = this.free[i];
    if ((before && before[0] + before[1] > offset) || (after && offset + length > after[0])) {
      throw new RangeError(`block [${offset}, ${offset + length}) overlaps a free block: freed twice`);
    }
    this.used -= length;
    if (before && before[0] + before[1] === offset) {
      before[1] += length;
      if (after && before[0] + before[1] === after[0]) {
        before[1] += after[1];
        this.free.splice(i, 1);
      }
    } else if (after && offset + length === after[0]) {
      after[0] = offset;
      after[1] += length;
    } else this.free.splice(i, 0, [offset, length]);
  }
}

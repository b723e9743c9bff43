import type { Socket } from "node:net";
import { WireError } from "../errors.js";
import { type DataFor, type NumericDType, dtypeInfo } from "../wire/dtypes.js";
import { type NDArray, type NumericNDArray, elementCount, isStringArray } from "../wire/ndarray.js";
import { type FrameEntry, INLINE, INLINE_MAX, MESSAGE, RELEASE, SHARED, StreamReader, decodeFrames, encodeFrames } from "./framing.js";
import { replyIdOf, withDeadlineSpent } from "../wire/codec.js";
import type { IncomingMessage, Link } from "./link.js";
import type { Region } from "./regions.js";
import { SharedArray } from "./shared-array.js";

/** A tick's writes up to this many bytes are copied into one buffer; beyond, they go as a writev without a copy. */
const COALESCE_MAX = 64 * 1024;
/** How long a closed socket waits for the process's exit to name the cause, before failing requests itself. */
const EXIT_GRACE_MS = 1000;

/** A block of the input region that `alloc` handed out: freed once released and no request in flight uses it. */
interface Allocation {
  offset: number;
  bytes: number;
  users: number;
  released: boolean;
}

/** What a request holds in the input region until its reply: blocks copied into, and allocations it uses. */
interface Held {
  copies: [offset: number, bytes: number][];
  allocations: Allocation[];
}

/**
 * The local link: wire messages over one end of a Unix socket pair the worker inherited, their arrays
 * through two regions of shared memory (python/tfbridge_worker/link.py is the other half). Nothing
 * listens anywhere, so no other process can connect.
 *
 * Inputs are copied once into the input region (or were allocated there by {@link alloc}); the worker
 * reads them in place, and their blocks are reused once the request's reply arrives. Outputs arrive
 * as {@link SharedArray} views over the output region, given back to the worker when released. When
 * the input region is full the next request waits for a reply to free room (backpressure); an array
 * that could never fit, or one that finds the region held only by the caller's own allocations,
 * goes inline on the socket instead.
 */
/** Room for a message's framing beyond its arrays and header: the frame table, 17 bytes per frame of up to 65,536. */
const FRAMING_SLACK = 2 * 1024 * 1024;

export class LocalLink implements Link {
  private readonly reader: StreamReader;
  private readonly held = new Map<number, Held>();
  private readonly allocations = new WeakMap<ArrayBuffer, Allocation>();
  /** Output blocks by the ArrayBuffer over them, until released. */
  private readonly outputs = new WeakMap<ArrayBuffer, { offset: number; length: number; token: object }>();
  private readonly collected = new FinalizationRegistry<{ offset: number; length: number }>((block) => this.releaseOutput(block));
  private readonly allocationsCollected = new FinalizationRegistry<Allocation>((a) => {
    a.released = true;
    this.freeAllocation(a);
  });
  private readonly waiting: { frames: Buffer[]; requestId: number | null; since: number; sent: () => void }[] = [];
  private releases: number[] = [];
  /** Bytes written in this tick, sent together on the next (see {@link write}). */
  private outgoing: Uint8Array[] = [];
  private outgoingBytes = 0;
  readonly kind = "local";
  readonly memberId = null;
  closed = false;

  /**
   * @param maxMessageBytes the largest message the worker may send (its arrays travel inline when they
   * do not fit the output region); a longer one breaks the link at its length prefix, before it is buffered.
   */
  constructor(
    private readonly socket: Socket,
    private readonly inputs: Region,
    private readonly outputRegion: Region,
    maxMessageBytes: number,
  ) {
    this.reader = new StreamReader(maxMessageBytes + FRAMING_SLACK);
  }

  /**
   * A zero-filled array in the input region, to fill and send without a copy; null when the region has
   * no room (allocate in ordinary memory then). Release it when done, as any {@link SharedArray}.
   */
  alloc<D extends NumericDType>(dtype: D, shape: readonly number[]): SharedArray<D> | null {
    const { typedArray, itemsize } = dtypeInfo(dtype);
    const count = elementCount(shape);
    const bytes = count * itemsize;
    const offset = this.inputs.allocator.alloc(bytes);
    if (offset === null) return null;
    const buffer = this.inputs.slice(offset, bytes);
    const data = new typedArray(buffer, 0, count) as DataFor[D];
    data.fill(0 as never);
    const allocation: Allocation = { offset, bytes, users: 0, released: false };
    this.allocations.set(buffer, allocation);
    const token = {};
    this.allocationsCollected.register(buffer, allocation, token);
    return new SharedArray(dtype, shape, data, () => {
      this.allocationsCollected.unregister(token);
      this.inputs.detach(buffer);
      allocation.released = true;
      this.freeAllocation(allocation);
    });
  }

  send(frames: Buffer[], requestId: number | null): Promise<void> {
    if (this.closed) return Promise.reject(new WireError("the local link is closed"));
    if (this.waiting.length > 0 && requestId !== null) return this.wait(frames, requestId);
    try {
      return this.trySend(frames, requestId) ? Promise.resolve() : this.wait(frames, requestId);
    } catch (e) {
      return Promise.reject(e); // a message its framing cannot hold: that request fails, nothing else
    }
  }

  start(receive: (message: IncomingMessage) => void, ended: (error: Error) => void, activity?: () => void): void {
    const broken = (e: unknown) => {
      this.closed = true;
      this.socket.destroy();
      ended(new WireError(`the worker broke the local link's framing: ${(e as Error).message}`));
    };
    this.socket.on("data", (chunk: Buffer) => {
      if (this.closed) return;
      let bodies: Buffer[];
      try {
        bodies = this.reader.push(chunk);
      } catch (e) {
        broken(e);
        return;
      }
      activity?.();
      for (const body of bodies) {
        let frames: Uint8Array[];
        try {
          frames = this.framesOf(body);
        } catch (e) {
          broken(e);
          return;
        }
        // A reply means the worker is done with its request's inputs: their blocks are free again.
        const repliedTo = frames.length > 0 ? replyIdOf(frames[0]!) : null;
        if (repliedTo !== null) this.replied(repliedTo);
        receive(new LocalMessage(this, frames));
      }
    });
    this.socket.on("close", () => {
      this.closed = true;
      this.rejectWaiting();
      setTimeout(() => ended(new WireError("the local link closed")), EXIT_GRACE_MS).unref();
    });
    this.socket.on("error", () => {}); // "close" follows
  }

  private replied(requestId: number): void {
    const held = this.held.get(requestId);
    if (!held) return;
    this.held.delete(requestId);
    for (const [offset, bytes] of held.copies) this.inputs.allocator.release(offset, bytes);
    for (const a of held.allocations) {
      a.users--;
      this.freeAllocation(a);
    }
    this.flushWaiting();
  }

  /** @internal {@link LocalMessage.adopt}: output arrays become SharedArrays; the message's other blocks go back. */
  adopt(frames: readonly Uint8Array[], arrays: NDArray[]): NDArray[] {
    const adopted = arrays.map((array) => {
      if (isStringArray(array)) return array; // decoded into JS strings: they never view the region
      const a = array as NumericNDArray;
      const buffer = a.data.buffer as ArrayBuffer;
      const block = this.outputs.get(buffer);
      if (!block) return a;
      return new SharedArray(a.dtype, a.shape, a.data, () => this.releaseBuffer(buffer));
    });
    // A frame its array does not view (strings, or a misaligned frame decoded into a copy) has no
    // holder: give it back now. Frame 0 is the header, always inline.
    for (let i = 0; i < arrays.length; i++) {
      const frame = frames[i + 1];
      const array = arrays[i]!;
      if (frame && (isStringArray(array) || (array as NumericNDArray).data.buffer !== frame.buffer)) this.release([frame]);
    }
    return adopted;
  }

  /** @internal {@link LocalMessage.release}: every block the frames view goes back to the worker. */
  release(frames: readonly Uint8Array[]): void {
    for (const f of frames) if (this.outputs.has(f.buffer as ArrayBuffer)) this.releaseBuffer(f.buffer as ArrayBuffer);
  }

  close(): void {
    this.closed = true;
    this.rejectWaiting();
    this.socket.destroy();
  }

  /** Puts the message on the socket if the input region has room for its arrays now; false if it must wait. */
  private trySend(frames: Buffer[], requestId: number | null): boolean {
    const held: Held = { copies: [], allocations: [] };
    const entries: FrameEntry[] = [];
    let mustWait = false;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      const allocation = i > 0 ? this.allocations.get(frame.buffer as ArrayBuffer) : undefined;
      if (allocation && !allocation.released) {
        held.allocations.push(allocation);
        entries.push({ where: SHARED, offset: allocation.offset + frame.byteOffset, length: frame.byteLength });
        continue;
      }
      if (i === 0 || frame.byteLength < INLINE_MAX || frame.byteLength > this.inputs.size) {
        entries.push({ where: INLINE, bytes: frame });
        continue;
      }
      const offset = this.inputs.allocator.alloc(frame.byteLength);
      if (offset !== null) {
        this.inputs.bytes.set(frame, offset);
        held.copies.push([offset, frame.byteLength]);
        entries.push({ where: SHARED, offset, length: frame.byteLength });
      } else if (this.held.size > 0) {
        mustWait = true; // a reply on its way frees room
        break;
      } else entries.push({ where: INLINE, bytes: frame }); // held by the caller's own allocations: no wait would end
    }
    let parts: Uint8Array[] | null = null;
    try {
      if (!mustWait) parts = encodeFrames(MESSAGE, entries);
    } finally {
      if (!parts || requestId === null) for (const [offset, bytes] of held.copies) this.inputs.allocator.release(offset, bytes);
    }
    if (!parts) return false;
    if (requestId !== null) {
      for (const a of held.allocations) a.users++;
      if (held.copies.length > 0 || held.allocations.length > 0) this.held.set(requestId, held);
    }
    this.flushReleases(); // blocks released before this request are free for its reply
    this.write(parts);
    return true;
  }

  private wait(frames: Buffer[], requestId: number | null): Promise<void> {
    return new Promise((sent, failed) => {
      this.waiting.push({ frames, requestId, since: Date.now(), sent: () => (this.closed ? failed(new WireError("the local link is closed")) : sent()) });
    });
  }

  withdraw(requestId: number): boolean {
    const at = this.waiting.findIndex((w) => w.requestId === requestId);
    if (at < 0) return false;
    this.waiting.splice(at, 1)[0]!.sent();
    this.flushWaiting(); // the requests behind it may fit
    return true;
  }

  private flushWaiting(): void {
    while (this.waiting.length > 0 && !this.closed) {
      const next = this.waiting[0]!;
      // The worker counts its deadline from arrival: the time spent waiting here is gone already.
      const frames = [withDeadlineSpent(next.frames[0]!, Date.now() - next.since), ...next.frames.slice(1)];
      if (!this.trySend(frames, next.requestId)) return;
      this.waiting.shift();
      next.sent();
    }
  }

  private rejectWaiting(): void {
    for (const w of this.waiting.splice(0)) w.sent();
  }

  /** Writes made in one tick leave in one system call (many requests sent at once are one write). */
  private write(parts: Uint8Array[]): void {
    if (this.outgoing.length === 0) process.nextTick(this.flush);
    for (const p of parts) {
      this.outgoing.push(p);
      this.outgoingBytes += p.byteLength;
    }
  }

  /**
   * This tick's writes, as one buffer when small: a single `write` of one buffer costs the stream far
   * less than cork, several writes and uncork (a writev), which only large inline frames still take.
   */
  private readonly flush = (): void => {
    const parts = this.outgoing;
    const bytes = this.outgoingBytes;
    this.outgoing = [];
    this.outgoingBytes = 0;
    if (parts.length === 1) this.socket.write(parts[0]!);
    else if (bytes <= COALESCE_MAX) this.socket.write(Buffer.concat(parts, bytes));
    else {
      this.socket.cork();
      for (const p of parts) this.socket.write(p);
      this.socket.uncork();
    }
  };

  /** A message's frames, the shared ones as views over new ArrayBuffers that give their block back when collected. */
  private framesOf(body: Buffer): Uint8Array[] {
    const { kind, entries } = decodeFrames(body);
    if (kind !== MESSAGE) throw new RangeError(`message kind ${kind}`);
    return entries.map((e) => {
      if (e.where === INLINE) return e.bytes;
      if (e.offset + e.length > this.outputRegion.size) throw new RangeError(`block [${e.offset}, ${e.offset + e.length}) is outside the output region`);
      const buffer = this.outputRegion.slice(e.offset, e.length);
      const token = {};
      this.outputs.set(buffer, { offset: e.offset, length: e.length, token });
      this.collected.register(buffer, { offset: e.offset, length: e.length }, token);
      return new Uint8Array(buffer);
    });
  }

  private releaseBuffer(buffer: ArrayBuffer): void {
    const block = this.outputs.get(buffer);
    if (!block) return;
    this.outputs.delete(buffer);
    this.collected.unregister(block.token);
    this.outputRegion.detach(buffer);
    this.releaseOutput(block);
  }

  /** Tells the worker a block of the output region is free; releases made in one tick go in one message, before any request. */
  private releaseOutput({ offset, length }: { offset: number; length: number }): void {
    if (this.closed) return;
    if (this.releases.length === 0) queueMicrotask(() => this.flushReleases());
    this.releases.push(offset, length);
  }

  private flushReleases(): void {
    const list = this.releases;
    this.releases = [];
    if (this.closed || list.length === 0) return;
    const entries: FrameEntry[] = [];
    for (let i = 0; i < list.length; i += 2) entries.push({ where: SHARED, offset: list[i]!, length: list[i + 1]! });
    this.write(encodeFrames(RELEASE, entries));
  }

  private freeAllocation(a: Allocation): void {
    if (!a.released || a.users > 0 || a.offset < 0) return;
    this.inputs.allocator.release(a.offset, a.bytes);
    a.offset = -1; // freed once
    this.flushWaiting();
  }
}

/** A message the local link delivered, owning the output blocks its frames view until adopted or released. */
class LocalMessage implements IncomingMessage {
  constructor(
    private readonly link: LocalLink,
    readonly frames: Uint8Array[],
  ) {}

  adopt(arrays: NDArray[]): NDArray[] {
    return this.link.adopt(this.frames, arrays);
  }

  release(): void {
    this.link.release(this.frames);
  }
}

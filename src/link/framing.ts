import { readProtocolFile } from "../paths.js";

type Field = [name: string, code: "u8" | "u32" | "u64"];

/** protocol/local-link.json, which python/tfbridge_worker/link.py reads too; this is the one module that reads it. */
const LOCAL_LINK = readProtocolFile<{
  prefix: Field[];
  entry: Field[];
  kinds: { message: number; release: number };
  where: { inline: number; shared: number };
  inlineMax: number;
  align: number;
}>("local-link.json");

/**
 * The local link's framing on its socket, as protocol/local-link.json lays it out:
 *
 *     u32 body length | u8 kind | u32 frame count | count × (u8 where, u64 offset, u64 length) | inline bytes
 *
 * kind 0 is a wire message, kind 1 (to the worker only) releases output blocks by offset and length.
 * `where` 0: the frame's bytes follow inline, in order; 1: they are in shared memory at `offset`.
 * The reads and writes below are written out for speed; test/link/framing.test.ts ties them to the file.
 */
export const MESSAGE = LOCAL_LINK.kinds.message;
export const RELEASE = LOCAL_LINK.kinds.release;
export const INLINE: 0 = LOCAL_LINK.where.inline as 0;
export const SHARED: 1 = LOCAL_LINK.where.shared as 1;
/** Frames smaller than this go inline, both ways: a block costs more than the copy. */
export const INLINE_MAX = LOCAL_LINK.inlineMax;
/** Every shared-memory block starts on this many bytes, so any dtype's TypedArray can view it in place. */
export const ALIGN = LOCAL_LINK.align;
/** The layout as protocol/local-link.json states it, for the test that ties it to the code below. */
export const LAYOUT = { prefix: LOCAL_LINK.prefix, entry: LOCAL_LINK.entry } as const;
const PREFIX_BYTES = 9;
const ENTRY_BYTES = 17;
/** The longest body a u32 length holds. */
export const MAX_BODY_BYTES = 0xffff_ffff;

/** One frame as the table lists it: inline bytes, or a block of shared memory. */
export type FrameEntry = { where: typeof INLINE; bytes: Uint8Array } | { where: typeof SHARED; offset: number; length: number };

/** The buffers to write for one message: its prefix and table, then the inline frames' bytes. */
export function encodeFrames(kind: number, entries: readonly FrameEntry[]): Uint8Array[] {
  const head = Buffer.allocUnsafe(PREFIX_BYTES + entries.length * ENTRY_BYTES);
  let inline = 0;
  for (const e of entries) if (e.where === INLINE) inline += e.bytes.byteLength;
  const body = head.length - 4 + inline;
  if (body > MAX_BODY_BYTES) throw new RangeError(`a local-link message of ${body} bytes is over its ${MAX_BODY_BYTES}-byte framing`);
  head.writeUInt32LE(body, 0);
  head.writeUInt8(kind, 4);
  head.writeUInt32LE(entries.length, 5);
  let at = 9;
  const parts: Uint8Array[] = [head];
  for (const e of entries) {
    head.writeUInt8(e.where, at);
    const [offset, length] = e.where === INLINE ? [0, e.bytes.byteLength] : [e.offset, e.length];
    writeU64(head, offset, at + 1);
    writeU64(head, length, at + 9);
    at += ENTRY_BYTES;
    if (e.where === INLINE) parts.push(e.bytes);
  }
  return parts;
}

function writeU64(buffer: Buffer, value: number, at: number): void {
  buffer.writeUInt32LE(value % 0x1_0000_0000, at);
  buffer.writeUInt32LE(Math.floor(value / 0x1_0000_0000), at + 4);
}

function readU64(buffer: Buffer, at: number): number {
  return buffer.readUInt32LE(at) + buffer.readUInt32LE(at + 4) * 0x1_0000_0000;
}

/** A message's kind and frame table, read from its body (the bytes after the length). */
export function decodeFrames(body: Buffer): { kind: number; entries: FrameEntry[] } {
  if (body.length < 5) throw new RangeError("a local-link message shorter than its kind and frame count");
  const kind = body.readUInt8(0);
  const count = body.readUInt32LE(1);
  let inline = 5 + count * ENTRY_BYTES;
  if (inline > body.length) throw new RangeError(`a local-link message of ${body.length} bytes cannot hold ${count} frames`);
  const entries: FrameEntry[] = [];
  for (let i = 0, at = 5; i < count; i++, at += ENTRY_BYTES) {
    const where = body.readUInt8(at);
    const offset = readU64(body, at + 1);
    const length = readU64(body, at + 9);
    if (where === SHARED) entries.push({ where, offset, length });
    else {
      if (inline + length > body.length) throw new RangeError("inline frames run past the local-link message");
      entries.push({ where: INLINE, bytes: body.subarray(inline, inline + length) });
      inline += length;
    }
  }
  return { kind, entries };
}

/**
 * Cuts a byte stream into message bodies. A body that arrived in one chunk is a view into it; one
 * spread over several chunks is joined once.
 */
export class StreamReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** @param maxBody the longest body the peer may send; a longer length prefix is refused before any of it is kept. */
  constructor(private readonly maxBody = Number.MAX_SAFE_INTEGER) {}

  /**
   * Adds a chunk; returns the bodies it completed.
   * @throws {RangeError} a length prefix over `maxBody` (the stream is unusable after it).
   */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const bodies: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const length = this.peekLength();
      if (length > this.maxBody) throw new RangeError(`a message of ${length} bytes announced, over the ${this.maxBody} this link takes`);
      if (this.buffered < 4 + length) break;
      this.take(4);
      bodies.push(this.take(length));
    }
    return bodies;
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    return (first.length >= 4 ? first : Buffer.concat(this.chunks, 4)).readUInt32LE(0);
  }

  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const part = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      if (part === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
    }
    return out;
  }
}

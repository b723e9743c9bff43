import { WireError } from "../errors.js";

/**
 * The `string` dtype's frame (docs/wire.md#strings): `n + 1` little-endian uint32 byte offsets into
 * the UTF-8 bytes that follow them, element `i` being bytes `[offsets[i], offsets[i + 1])`.
 */

/** Bytes per offset. uint32: a frame fits in the message cap (1 GiB by default), and offsets stay plain numbers. */
const OFFSET_BYTES = 4;
const MAX_OFFSET = 0xffff_ffff;
/** `fatal`: a byte sequence that is not UTF-8 throws instead of turning into U+FFFD. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Each element checked to be a well-formed JS string (a lone surrogate has no UTF-8 form: it would be
 * sent as U+FFFD without a word).
 * @throws {WireError} naming the first element that is not.
 */
export function checkStrings(data: readonly unknown[], what: string): void {
  for (let i = 0; i < data.length; i++) {
    const s = data[i];
    if (typeof s !== "string") throw new WireError(`${what}: string data holds a ${typeof s} at index ${i}`);
    if (!s.isWellFormed()) throw new WireError(`${what}: the string at index ${i} holds a lone UTF-16 surrogate, which UTF-8 cannot carry`);
  }
}

/** The size of the frame {@link encodeStrings} makes, without making it: what the message cap counts. */
export function stringsFrameBytes(data: readonly string[]): number {
  let bytes = (data.length + 1) * OFFSET_BYTES;
  for (const s of data) bytes += Buffer.byteLength(s, "utf8");
  return bytes;
}

/** @throws {WireError} for an element that is not a well-formed string, or text past uint32 offsets. */
export function encodeStrings(data: readonly string[], what: string): Buffer {
  checkStrings(data, what);
  const head = (data.length + 1) * OFFSET_BYTES;
  const total = stringsFrameBytes(data);
  if (total - head > MAX_OFFSET) throw new WireError(`${what}: ${total - head} bytes of text are past the string layout's uint32 offsets`);
  // Measured first, then written in place: no Buffer per element.
  const frame = Buffer.allocUnsafe(total);
  let at = head;
  frame.writeUInt32LE(0, 0);
  data.forEach((s, i) => {
    at += frame.write(s, at, "utf8");
    frame.writeUInt32LE(at - head, (i + 1) * OFFSET_BYTES);
  });
  return frame;
}

/**
 * A frame as `count` JS strings (copies: JS strings never view the frame's memory).
 * @throws {WireError} for offsets that are out of order or disagree with the frame's length, or bytes
 * that are not UTF-8, naming the element.
 */
export function decodeStrings(bytes: Uint8Array, count: number, what: string): string[] {
  const head = (count + 1) * OFFSET_BYTES;
  if (bytes.byteLength < head) throw new WireError(`${what}: string[${count}] needs ${head} bytes of offsets, frame has ${bytes.byteLength}`);
  // A DataView reads the offsets wherever the frame starts: an inline frame may sit at any byte offset.
  const offsets = new DataView(bytes.buffer, bytes.byteOffset, head);
  const text = bytes.subarray(head);
  if (offsets.getUint32(0, true) !== 0) throw new WireError(`${what}: the first string offset must be 0`);
  const out = new Array<string>(count);
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = offsets.getUint32((i + 1) * OFFSET_BYTES, true);
    if (end < start || end > text.byteLength) {
      throw new WireError(`${what}: string offset ${i + 1} is ${end}, outside [${start}, ${text.byteLength}]`);
    }
    try {
      out[i] = utf8.decode(text.subarray(start, end));
    } catch {
      throw new WireError(`${what}: the string at index ${i} is not valid UTF-8`);
    }
    start = end;
  }
  if (start !== text.byteLength) throw new WireError(`${what}: the string offsets end at ${start} but the frame holds ${text.byteLength} bytes of text`);
  return out;
}

import { BadRequestError, WireError, WireVersionError } from "../errors.js";
import { type AnyTypedArray, DTYPE_CODES, type DType, type NumericDType, type TypedArrayFor, dtypeInfo } from "./dtypes.js";
import { type NDArray, type NumericNDArray, checkBoolBytes, elementCount } from "./ndarray.js";
import { CONTROLS, type ControlToWorker, HEADER, HEADER_OFFSETS, MAX_ID, OPS, WIRE_VERSION } from "./protocol.js";
import { decodeStrings, encodeStrings } from "./strings.js";

/** How one array frame is described in the header. */
export interface ArrayDescriptor {
  dtype: DType;
  shape: number[];
  name?: string;
}

/**
 * A message's header as both halves use it (docs/wire.md#header): `v` and `arrays` are filled in by
 * {@link encodeMessage}. On the wire its fixed fields are binary; `op`/`ctl`/`ok` say its kind, and
 * `args`, `result`, `error` and a control message's other fields travel as JSON.
 */
export interface Header {
  v: number;
  id: number | null;
  arrays: ArrayDescriptor[];
  [key: string]: unknown;
}

/** A decoded message: the header, and one NDArray per array frame (keyed by name where named). */
export interface Message {
  header: Header;
  arrays: NDArray[];
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new WireError("tfbridge's wire format is little-endian; this host is not");
}

const O = HEADER_OFFSETS as Record<"version" | "kind" | "code" | "flags" | "arrayCount" | "id" | "deadlineMs" | "jsonBytes", number>;
const FIXED = HEADER.fixedBytes;
const DESCRIPTOR = HEADER.descriptorBytes;
const DIM = HEADER.dimBytes;
const { id: HAS_ID, deadline: HAS_DEADLINE, progress: WANTS_PROGRESS } = HEADER.flags;
const [REQUEST, REPLY, ERROR, CONTROL] = [0, 1, 2, 3];
const OP_CODES = new Map<string, number>(OPS.map((op, i) => [op, i]));
const CONTROL_CODES = new Map<string, number>(CONTROLS.map((c, i) => [c, i]));
const DTYPE_CODE = new Map<string, number>(DTYPE_CODES.map((d, i) => [d, i]));
/** The header's own keys: everything else of a control message travels in its JSON. */
const FIXED_KEYS = new Set(["v", "id", "op", "ctl", "ok", "args", "result", "error", "deadlineMs", "progress", "arrays"]);
const EMPTY = Buffer.alloc(0);
/** `{` opens every v1 header, which was a JSON object. */
const V1_FIRST_BYTE = 0x7b;

/**
 * The frames of one message: the header (fixed fields, array descriptors, then JSON where needed),
 * then each array's bytes without a copy (a string array's frame is made here: its offsets, then its UTF-8).
 * @throws {BadRequestError} for an op that protocol/wire.json does not list (no code carries it).
 * @throws {WireError} for a bool array holding bytes other than 0 and 1 (the worker would refuse it),
 * or a string array holding something other than well-formed strings.
 */
export function encodeMessage(header: Omit<Header, "v" | "arrays">, arrays: readonly NDArray[] = [], names?: readonly string[]): Buffer[] {
  if (arrays.length > 0xffff) throw new WireError(`a message carries at most ${0xffff} arrays, not ${arrays.length}`);
  const frames: Buffer[] = [EMPTY];
  let nameBytes: Buffer[] | null = null;
  let size = FIXED;
  for (let i = 0; i < arrays.length; i++) {
    const a = arrays[i]!;
    if (a.dtype === "bool") checkBoolBytes(a.data as Uint8Array, `arrays[${i}]`);
    if (a.shape.length > 0xff) throw new WireError(`arrays[${i}]: rank ${a.shape.length} is over the header's 255`);
    frames.push(arrayFrame(a, `arrays[${i}]`));
    size += DESCRIPTOR + DIM * a.shape.length;
    if (names?.[i]) {
      nameBytes ??= [];
      nameBytes[i] = Buffer.from(names[i]!, "utf8");
      if (nameBytes[i]!.length > 0xffff) throw new WireError(`arrays[${i}]: a name of ${nameBytes[i]!.length} bytes is over the header's 65535`);
      size += nameBytes[i]!.length;
    }
  }
  const { kind, code, json } = fieldsOf(header);
  const text = json === undefined ? EMPTY : Buffer.from(JSON.stringify(json), "utf8");
  const head = Buffer.allocUnsafe(size + text.length);
  head[O.version] = WIRE_VERSION;
  head[O.kind] = kind;
  head.writeUInt16LE(code, O.code);
  let flags = 0;
  if (typeof header.id === "number") {
    flags |= HAS_ID;
    writeU64(head, checkedCount(header.id, "id"), O.id);
  } else writeU64(head, 0, O.id);
  if (kind === REQUEST && typeof header.deadlineMs === "number") {
    flags |= HAS_DEADLINE;
    writeU64(head, checkedCount(header.deadlineMs, "deadlineMs"), O.deadlineMs);
  } else writeU64(head, 0, O.deadlineMs);
  if (header.progress === true) flags |= WANTS_PROGRESS;
  head.writeUInt16LE(flags, O.flags);
  head.writeUInt16LE(arrays.length, O.arrayCount);
  head.writeUInt32LE(text.length, O.jsonBytes);
  let at = FIXED;
  for (let i = 0; i < arrays.length; i++) {
    const { dtype, shape } = arrays[i]!;
    const name = nameBytes?.[i];
    head[at] = DTYPE_CODE.get(dtype)!;
    head[at + 1] = shape.length;
    head.writeUInt16LE(name?.length ?? 0, at + 2);
    at += DESCRIPTOR;
    for (const n of shape) {
      writeU64(head, n, at);
      at += DIM;
    }
    if (name) at += name.copy(head, at);
  }
  text.copy(head, at);
  frames[0] = head;
  return frames;
}

/** The kind, code and JSON part of a header given as an object. */
function fieldsOf(header: Omit<Header, "v" | "arrays">): { kind: number; code: number; json: unknown } {
  if (header.ctl !== undefined) {
    const code = CONTROL_CODES.get(header.ctl as string);
    if (code === undefined) throw new WireError(`control message ${JSON.stringify(header.ctl)} is not one of ${CONTROLS.join(", ")}`);
    let rest: Record<string, unknown> | undefined;
    for (const key in header) if (!FIXED_KEYS.has(key)) (rest ??= {})[key] = header[key];
    return { kind: CONTROL, code, json: rest };
  }
  if (header.op !== undefined) {
    const code = OP_CODES.get(header.op as string);
    if (code === undefined) throw new BadRequestError(`unknown op '${String(header.op)}': wire format v${WIRE_VERSION} carries the ops of protocol/wire.json only`);
    return { kind: REQUEST, code, json: isEmpty(header.args) ? undefined : header.args };
  }
  if (header.ok === false) return { kind: ERROR, code: 0, json: header.error };
  return { kind: REPLY, code: 0, json: isEmpty(header.result) ? undefined : header.result };
}

function isEmpty(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  for (const _ in value) return false;
  return true;
}

function checkedCount(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_ID) throw new WireError(`${what} must be an integer from 0 to ${MAX_ID}, not ${n}`);
  return n;
}

/**
 * A request header whose deadline is `elapsedMs` nearer than when it was encoded (at least 1 ms left:
 * 0 would mean none), for a request that waited on its way out; other headers are returned as they are.
 */
export function withDeadlineSpent(head: Buffer, elapsedMs: number): Buffer {
  if (head[O.kind] !== REQUEST || !(head.readUInt16LE(O.flags) & HAS_DEADLINE) || elapsedMs <= 0) return head;
  const left = readU64(new DataView(head.buffer, head.byteOffset, head.byteLength), O.deadlineMs);
  const spent = Buffer.from(head);
  writeU64(spent, Math.max(1, left - Math.ceil(elapsedMs)), O.deadlineMs);
  return spent;
}

function writeU64(buffer: Buffer, value: number, at: number): void {
  buffer.writeUInt32LE(value % 0x1_0000_0000, at);
  buffer.writeUInt32LE(Math.floor(value / 0x1_0000_0000), at + 4);
}

function readU64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 0x1_0000_0000;
}

/**
 * One array's frame: a view over a TypedArray's own memory, or a string array's offsets and UTF-8.
 * @throws {WireError} for string data that UTF-8 cannot carry, naming it as `what`.
 */
export function arrayFrame(a: NDArray, what: string): Buffer {
  if (a.dtype === "string") return encodeStrings(a.data as string[], what);
  const { data } = a as NumericNDArray;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A control message to a worker (docs/wire.md#control-messages-and-pools). */
export function encodeControl(ctl: ControlToWorker, id: number | null = null): Buffer[] {
  return encodeMessage({ id, ctl });
}

/** A message's size as the cap counts it: every frame, header included. */
export function messageBytes(frames: readonly Uint8Array[]): number {
  let n = 0;
  for (const f of frames) n += f.byteLength;
  return n;
}

/**
 * A TypedArray over `bytes`: a view when the offset is aligned for the element size, else (and only
 * then) a copy into fresh memory.
 */
export function typedArrayOver<D extends NumericDType>(dtype: D, bytes: Uint8Array): TypedArrayFor[D] {
  const { typedArray, itemsize } = dtypeInfo(dtype);
  const length = bytes.byteLength / itemsize;
  if (bytes.byteOffset % itemsize === 0) {
    return new typedArray(bytes.buffer, bytes.byteOffset, length) as TypedArrayFor[D];
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new typedArray(copy.buffer, 0, length) as AnyTypedArray as TypedArrayFor[D];
}

/**
 * The id of a reply or error reply, read from its header's fixed fields alone; null for any other
 * message, or one too short to say. The local link frees a request's inputs by it without decoding.
 */
export function replyIdOf(head: Uint8Array): number | null {
  if (head.byteLength < FIXED || head[O.version] !== WIRE_VERSION) return null;
  const kind = head[O.kind];
  if (kind !== REPLY && kind !== ERROR) return null;
  const view = new DataView(head.buffer, head.byteOffset, FIXED);
  return view.getUint16(O.flags, true) & HAS_ID ? readU64(view, O.id) : null;
}

/** Whether `frames` are a heartbeat and nothing else, read from the header's fixed fields alone. */
export function isHeartbeat(frames: readonly Uint8Array[]): boolean {
  const head = frames[0];
  if (frames.length !== 1 || !head || head.byteLength < FIXED || head[O.version] !== WIRE_VERSION || head[O.kind] !== CONTROL) return false;
  return new DataView(head.buffer, head.byteOffset, FIXED).getUint16(O.code, true) === CONTROL_CODES.get("heartbeat");
}

/** The header frame's version, refusing any but this side's with a typed error that names it. */
function checkVersion(head: Uint8Array): void {
  if (head.byteLength === 0) throw new WireError("empty header frame");
  const version = head[O.version]!;
  if (version === WIRE_VERSION) return;
  if (version === V1_FIRST_BYTE) throw new WireVersionError(1, WIRE_VERSION, "(a JSON header) arrived: the peer is a tfbridge of an older release");
  throw new WireVersionError(version, WIRE_VERSION, "arrived");
}

/** A message's frames as a header and NDArrays; WireError names what is malformed. */
export function decodeMessage(frames: readonly Uint8Array[]): Message {
  if (frames.length === 0) throw new WireError("empty message");
  const head = frames[0]!;
  checkVersion(head);
  if (head.byteLength < FIXED) throw new WireError(`a header of ${head.byteLength} bytes is shorter than its ${FIXED} fixed bytes`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const kind = head[O.kind]!;
  const code = view.getUint16(O.code, true);
  const flags = view.getUint16(O.flags, true);
  const count = view.getUint16(O.arrayCount, true);
  const jsonBytes = view.getUint32(O.jsonBytes, true);
  if (count !== frames.length - 1) throw new WireError(`header describes ${count} arrays but ${frames.length - 1} frames follow`);
  const descriptors: ArrayDescriptor[] = [];
  const arrays: NDArray[] = [];
  let at = FIXED;
  for (let i = 0; i < count; i++) {
    if (at + DESCRIPTOR > head.byteLength) throw new WireError(`arrays[${i}]: the header ends inside its descriptor`);
    const dtype = DTYPE_CODES[head[at]!];
    const rank = head[at + 1]!;
    const nameBytes = view.getUint16(at + 2, true);
    if (dtype === undefined) throw new WireError(`arrays[${i}]: dtype code ${head[at]} is not in protocol/dtypes.json`);
    at += DESCRIPTOR;
    if (at + rank * DIM + nameBytes > head.byteLength) throw new WireError(`arrays[${i}]: the header ends inside its shape or name`);
    const shape: number[] = new Array(rank);
    for (let d = 0; d < rank; d++, at += DIM) {
      shape[d] = readU64(view, at);
      if (shape[d]! > MAX_ID) throw new WireError(`arrays[${i}].shape[${d}] is past ${MAX_ID}`);
    }
    const descriptor: ArrayDescriptor = { dtype, shape };
    if (nameBytes > 0) {
      descriptor.name = Buffer.from(head.buffer, head.byteOffset + at, nameBytes).toString("utf8");
      at += nameBytes;
    }
    descriptors.push(descriptor);
    arrays.push(decodeArray(descriptor, frames[i + 1]!, i));
  }
  if (at + jsonBytes !== head.byteLength) throw new WireError(`header of ${head.byteLength} bytes: its fields and ${jsonBytes} bytes of JSON take ${at + jsonBytes}`);
  let json: unknown;
  if (jsonBytes > 0) {
    try {
      json = JSON.parse(Buffer.from(head.buffer, head.byteOffset + at, jsonBytes).toString("utf8"));
    } catch (e) {
      throw new WireError(`header JSON is not JSON: ${(e as Error).message}`);
    }
  }
  const header: Header = { v: WIRE_VERSION, id: flags & HAS_ID ? readU64(view, O.id) : null, arrays: descriptors };
  if (kind === REPLY) {
    header.ok = true;
    header.result = json ?? {};
  } else if (kind === ERROR) {
    header.ok = false;
    header.error = json;
  } else if (kind === CONTROL) {
    const ctl = CONTROLS[code];
    if (ctl === undefined) throw new WireError(`control code ${code} is not in protocol/wire.json`);
    if (typeof json === "object" && json !== null) {
      for (const [key, value] of Object.entries(json)) if (!FIXED_KEYS.has(key)) header[key] = value;
    }
    header.ctl = ctl;
  } else if (kind === REQUEST) {
    const op = OPS[code];
    if (op === undefined) throw new WireError(`op code ${code} is not in protocol/wire.json`);
    header.op = op;
    header.args = json ?? {};
    if (flags & HAS_DEADLINE) header.deadlineMs = readU64(view, O.deadlineMs);
    if (flags & WANTS_PROGRESS) header.progress = true;
  } else throw new WireError(`message kind ${kind} is not one of protocol/wire.json's`);
  return { header, arrays };
}

function decodeArray(d: ArrayDescriptor, bytes: Uint8Array, i: number): NDArray {
  if (d.dtype === "string") return { dtype: d.dtype, shape: d.shape, data: decodeStrings(bytes, elementCount(d.shape), `arrays[${i}]`) };
  const expected = elementCount(d.shape) * dtypeInfo(d.dtype).itemsize;
  if (bytes.byteLength !== expected) {
    throw new WireError(`arrays[${i}]: ${d.dtype}[${d.shape}] needs ${expected} bytes, frame has ${bytes.byteLength}`);
  }
  if (d.dtype === "bool") checkBoolBytes(bytes, `arrays[${i}]`);
  return { dtype: d.dtype, shape: d.shape, data: typedArrayOver(d.dtype, bytes) };
}

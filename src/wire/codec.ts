import { WireError } from "../errors.js";
import { type AnyTypedArray, type DType, type NumericDType, type TypedArrayFor, dtypeInfo, isDType } from "./dtypes.js";
import { type NDArray, type NumericNDArray, checkBoolBytes, elementCount } from "./ndarray.js";
import { type ControlToWorker, WIRE_VERSION } from "./protocol.js";
import { decodeStrings, encodeStrings } from "./strings.js";

/** How one array frame is described in the header. */
export interface ArrayDescriptor {
  dtype: DType;
  shape: number[];
  name?: string;
}

/** The header frame's JSON object; `v` and `arrays` are filled in by {@link encodeMessage}. */
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

/**
 * The frames of one message: the header as JSON, then each array's bytes without a copy (a string
 * array's frame is made here: its offsets, then its UTF-8).
 * @throws {WireError} for a bool array holding bytes other than 0 and 1 (the worker would refuse it),
 * or a string array holding something other than well-formed strings.
 */
export function encodeMessage(
  header: Omit<Header, "v" | "arrays">,
  arrays: readonly NDArray[] = [],
  names?: readonly string[],
): Buffer[] {
  const descriptors = arrays.map((a, i): ArrayDescriptor => {
    if (a.dtype === "bool") checkBoolBytes(a.data as Uint8Array, `arrays[${i}]`);
    const d: ArrayDescriptor = { dtype: a.dtype, shape: [...a.shape] };
    if (names) d.name = names[i];
    return d;
  });
  const head = Buffer.from(JSON.stringify({ v: WIRE_VERSION, ...header, arrays: descriptors }), "utf8");
  return [head, ...arrays.map((a, i) => arrayFrame(a, `arrays[${i}]`))];
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

/** A control message to a worker (docs/wire.md#control-messages-and-pools): `ctl` is checked against protocol/wire.json's list by its type. */
export function encodeControl(ctl: ControlToWorker, id: number | null = null): Buffer[] {
  return encodeMessage({ id, ctl });
}

/** A message's size as the cap counts it: every frame, header included. */
export function messageBytes(frames: readonly Uint8Array[]): number {
  return frames.reduce((n, f) => n + f.byteLength, 0);
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

function decodeDescriptor(d: unknown, i: number): ArrayDescriptor {
  if (typeof d !== "object" || d === null) throw new WireError(`arrays[${i}] must be an object`);
  const { dtype, shape, name } = d as Record<string, unknown>;
  if (!isDType(dtype)) throw new WireError(`arrays[${i}].dtype ${JSON.stringify(dtype)} is not a wire dtype`);
  if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new WireError(`arrays[${i}].shape must be a list of non-negative integers`);
  }
  return name === undefined ? { dtype, shape } : { dtype, shape, name: String(name) };
}

/** A message's frames as a header and NDArrays; WireError names what is malformed. */
export function decodeMessage(frames: readonly Uint8Array[]): Message {
  if (frames.length === 0) throw new WireError("empty message");
  const first = frames[0]!;
  let header: Header;
  try {
    header = JSON.parse((first instanceof Buffer ? first : Buffer.from(first.buffer, first.byteOffset, first.byteLength)).toString("utf8"));
  } catch (e) {
    throw new WireError(`header frame is not JSON: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null) throw new WireError("header must be a JSON object");
  if (header.v !== WIRE_VERSION) throw new WireError(`wire version ${header.v} is not ${WIRE_VERSION}`);
  const listed: unknown = header.arrays ?? [];
  if (!Array.isArray(listed)) throw new WireError("header.arrays must be a list");
  const descriptors = listed.map(decodeDescriptor);
  if (descriptors.length !== frames.length - 1) {
    throw new WireError(`header describes ${descriptors.length} arrays but ${frames.length - 1} frames follow`);
  }
  const arrays = descriptors.map((d, i): NDArray => {
    const bytes = frames[i + 1]!;
    if (d.dtype === "string") return { dtype: d.dtype, shape: d.shape, data: decodeStrings(bytes, elementCount(d.shape), `arrays[${i}]`) };
    const expected = elementCount(d.shape) * dtypeInfo(d.dtype).itemsize;
    if (bytes.byteLength !== expected) {
      throw new WireError(`arrays[${i}]: ${d.dtype}[${d.shape}] needs ${expected} bytes, frame has ${bytes.byteLength}`);
    }
    if (d.dtype === "bool") checkBoolBytes(bytes, `arrays[${i}]`);
    return { dtype: d.dtype, shape: d.shape, data: typedArrayOver(d.dtype, bytes) };
  });
  header.arrays = descriptors; // the parsed object is this call's own: no copy
  return { header, arrays };
}

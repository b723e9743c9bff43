import { WireError } from "../errors.js";
import { type DType, type DataFor, type NumericDType, dtypeInfo, isDType } from "./dtypes.js";
import { checkStrings, stringsFrameBytes } from "./strings.js";

/**
 * An n-dimensional array as it crosses the wire: a dtype, a shape, and its elements in C order as the
 * matching TypedArray (float16 as raw bits in a Uint16Array, bool as 0/1 bytes in a Uint8Array), or
 * for `string` as an array of JS strings.
 */
export interface NDArray<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: DataFor[D];
}

/** An array of a fixed-size dtype: its data is a TypedArray. */
export type NumericNDArray = NDArray<NumericDType>;

/** True for a `string` array, whose data is a `string[]` rather than a TypedArray. */
export function isStringArray(array: NDArray): array is NDArray<"string"> {
  return array.dtype === "string";
}

/** The bytes an array's frame takes on the wire: what the message cap counts (a string array's UTF-8 and offsets). */
export function frameBytes(array: NDArray): number {
  return isStringArray(array) ? stringsFrameBytes(array.data) : (array as NumericNDArray).data.byteLength;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** @throws {WireError} unless every byte is 0 or 1, the only bool bytes the wire format allows. */
export function checkBoolBytes(bytes: Uint8Array, what: string): void {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! > 1) throw new WireError(`${what}: bool data holds ${bytes[i]} at index ${i}; only 0 and 1 are allowed`);
  }
}

/** @throws {WireError} unless `shape` is a list of non-negative integers. */
export function checkShape(shape: readonly number[]): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new WireError(`shape must hold non-negative integers, got [${Array.isArray(shape) ? shape.join(", ") : String(shape)}]`);
  }
}

/**
 * Checks that `data` fits `dtype` and `shape` (bool data: bytes 0 and 1 only; string data: well-formed
 * JS strings only), and returns them as one NDArray.
 */
export function ndarray<D extends DType>(dtype: D, shape: readonly number[], data: DataFor[D]): NDArray<D> {
  checkShape(shape);
  if (dtype === "string") {
    if (!Array.isArray(data)) throw new WireError(`string data must be an array of strings, got ${(data as object)?.constructor?.name}`);
    checkStrings(data, "ndarray");
  } else {
    const info = dtypeInfo(dtype as NumericDType);
    if (!(data instanceof info.typedArray)) {
      throw new WireError(`${dtype} data must be a ${info.typedArray.name}, got ${(data as object)?.constructor?.name}`);
    }
  }
  const count = elementCount(shape);
  if (data.length !== count) {
    throw new WireError(`shape [${shape.join(", ")}] holds ${count} elements but data has ${data.length}`);
  }
  if (dtype === "bool") checkBoolBytes(data as Uint8Array, "ndarray");
  return { dtype, shape: [...shape], data };
}

/** A new zero-filled array (a string array: of empty strings). */
export function zeros<D extends DType>(dtype: D, shape: readonly number[]): NDArray<D> {
  const count = elementCount(shape);
  if (dtype === "string") return ndarray(dtype, shape, new Array<string>(count).fill("") as DataFor[D]);
  const info = dtypeInfo(dtype as NumericDType);
  return ndarray(dtype, shape, new info.typedArray(count) as DataFor[D]);
}

/** True for a value shaped like an NDArray: a wire dtype, a shape, and an ArrayBuffer view (for string, an array) as data. */
export function isNDArray(value: unknown): value is NDArray {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<NDArray>;
  if (!isDType(v.dtype) || !Array.isArray(v.shape)) return false;
  return v.dtype === "string" ? Array.isArray(v.data) : ArrayBuffer.isView(v.data);
}

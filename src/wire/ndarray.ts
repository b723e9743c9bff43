import { WireError } from "../errors.js";
import { type DType, type TypedArrayFor, dtypeInfo, isDType } from "./dtypes.js";

/**
 * An n-dimensional array as it crosses the wire: a dtype, a shape, and its elements in C order as the
 * matching TypedArray (float16 as raw bits in a Uint16Array, bool as 0/1 bytes in a Uint8Array).
 */
export interface NDArray<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TypedArrayFor[D];
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** @throws {WireError} unless every byte is 0 or 1, the only bool bytes wire format v1 allows. */
export function checkBoolBytes(bytes: Uint8Array, what: string): void {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! > 1) throw new WireError(`${what}: bool data holds ${bytes[i]} at index ${i}; only 0 and 1 are allowed`);
  }
}

/** Checks that `data` fits `dtype` and `shape` (bool data: bytes 0 and 1 only), and returns them as one NDArray. */
export function ndarray<D extends DType>(dtype: D, shape: readonly number[], data: TypedArrayFor[D]): NDArray<D> {
  const info = dtypeInfo(dtype);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new WireError(`shape must hold non-negative integers, got [${shape.join(", ")}]`);
  }
  if (!(data instanceof info.typedArray)) {
    throw new WireError(`${dtype} data must be a ${info.typedArray.name}, got ${data?.constructor?.name}`);
  }
  const count = elementCount(shape);
  if (data.length !== count) {
    throw new WireError(`shape [${shape.join(", ")}] holds ${count} elements but data has ${data.length}`);
  }
  if (dtype === "bool") checkBoolBytes(data as Uint8Array, "ndarray");
  return { dtype, shape: [...shape], data };
}

/** A new zero-filled array. */
export function zeros<D extends DType>(dtype: D, shape: readonly number[]): NDArray<D> {
  const info = dtypeInfo(dtype);
  return ndarray(dtype, shape, new info.typedArray(elementCount(shape)) as TypedArrayFor[D]);
}

/** True for a value shaped like an NDArray: a wire dtype, a shape, and an ArrayBuffer view as data. */
export function isNDArray(value: unknown): value is NDArray {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<NDArray>;
  return isDType(v.dtype) && Array.isArray(v.shape) && ArrayBuffer.isView(v.data);
}

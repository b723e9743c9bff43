import { WireError } from "../errors.js";
import { readProtocolFile } from "../paths.js";

/** The JS view over each wire dtype's raw little-endian bytes. */
export interface TypedArrayFor {
  float16: Uint16Array; // IEEE half-precision bits
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  bool: Uint8Array; // one byte per element, 0 or 1
}

/** A dtype of wire format v1 (protocol/dtypes.json). */
export type DType = keyof TypedArrayFor;
export type AnyTypedArray = TypedArrayFor[DType];

interface TypedArrayConstructor {
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
  new (length: number): AnyTypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): AnyTypedArray;
}

const constructors: Record<string, TypedArrayConstructor> = {
  Uint16Array, Float32Array, Float64Array, Int8Array, Int16Array, Int32Array,
  BigInt64Array, Uint8Array, Uint32Array, BigUint64Array,
};

interface DTypeRow {
  name: DType;
  numpy: string;
  itemsize: number;
  typedArray: string;
}

/** What the runtime knows about one dtype, straight from protocol/dtypes.json. */
export interface DTypeInfo {
  readonly name: DType;
  readonly itemsize: number;
  readonly typedArray: TypedArrayConstructor;
}

function loadTable(): ReadonlyMap<DType, DTypeInfo> {
  const table = new Map<DType, DTypeInfo>();
  for (const row of readProtocolFile<{ dtypes: DTypeRow[] }>("dtypes.json").dtypes) {
    const typedArray = constructors[row.typedArray];
    if (!typedArray || typedArray.BYTES_PER_ELEMENT !== row.itemsize) {
      throw new WireError(`protocol/dtypes.json: ${row.name} cannot be viewed as ${row.typedArray}`);
    }
    table.set(row.name, { name: row.name, itemsize: row.itemsize, typedArray });
  }
  return table;
}

/** Every wire dtype, in the table's order. */
export const DTYPES: ReadonlyMap<DType, DTypeInfo> = loadTable();

export function isDType(name: unknown): name is DType {
  return typeof name === "string" && DTYPES.has(name as DType);
}

export function dtypeInfo(name: DType): DTypeInfo {
  const info = DTYPES.get(name);
  if (!info) throw new WireError(`unknown dtype ${String(name)}`);
  return info;
}

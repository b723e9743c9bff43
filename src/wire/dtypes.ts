import { WireError } from "../errors.js";
import { readProtocolFile } from "../paths.js";

/** The JS view over each fixed-size wire dtype's raw little-endian bytes. */
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

/** An array's `data` for each wire dtype: a TypedArray, or for `string` one JS string per element. */
export interface DataFor extends TypedArrayFor {
  string: string[];
}

/** A wire dtype whose elements have a fixed size, viewed as a TypedArray. */
export type NumericDType = keyof TypedArrayFor;
/** A dtype of the wire format (protocol/dtypes.json). */
export type DType = keyof DataFor;
export type AnyTypedArray = TypedArrayFor[NumericDType];

/** The one variable-size layout this runtime implements (docs/wire.md#strings): uint32 offsets, then UTF-8. */
const STRING_LAYOUT = "uint32-offsets-utf8";

/** The constructor of a dtype's typed array (`Float32Array`, …). */
export interface TypedArrayConstructor {
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
  itemsize?: number;
  typedArray?: string;
  layout?: string;
}

/** What the runtime knows about one fixed-size dtype, straight from protocol/dtypes.json. */
export interface DTypeInfo {
  readonly name: NumericDType;
  readonly itemsize: number;
  readonly typedArray: TypedArrayConstructor;
}

const ROWS = readProtocolFile<{ dtypes: DTypeRow[] }>("dtypes.json").dtypes;

/** Every dtype in protocol/dtypes.json's order: a dtype's index here is its code in a v2 header. */
export const DTYPE_CODES: readonly DType[] = ROWS.map((row) => row.name);

function loadTable(): ReadonlyMap<NumericDType, DTypeInfo> {
  const table = new Map<NumericDType, DTypeInfo>();
  let sawString = false;
  for (const row of ROWS) {
    if (row.layout !== undefined) {
      // A variable-size dtype: only the one layout the codec implements is accepted, under its one name.
      if (row.name !== "string" || row.layout !== STRING_LAYOUT) {
        throw new WireError(`protocol/dtypes.json: ${row.name} has layout ${row.layout}; this runtime knows only string as ${STRING_LAYOUT}`);
      }
      sawString = true;
      continue;
    }
    const typedArray = constructors[row.typedArray ?? ""];
    if (!typedArray || typedArray.BYTES_PER_ELEMENT !== row.itemsize || row.name === "string") {
      throw new WireError(`protocol/dtypes.json: ${row.name} cannot be viewed as ${row.typedArray}`);
    }
    table.set(row.name, { name: row.name, itemsize: row.itemsize, typedArray });
  }
  if (!sawString) throw new WireError("protocol/dtypes.json has no string dtype");
  return table;
}

/** Every fixed-size wire dtype, in the table's order (`string`, the one of variable size, is not among them). */
export const DTYPES: ReadonlyMap<NumericDType, DTypeInfo> = loadTable();

export function isDType(name: unknown): name is DType {
  return name === "string" || isNumericDType(name);
}

/** True for a fixed-size dtype's name: one whose data is a TypedArray. */
export function isNumericDType(name: unknown): name is NumericDType {
  return typeof name === "string" && DTYPES.has(name as NumericDType);
}

export function dtypeInfo(name: NumericDType): DTypeInfo {
  const info = DTYPES.get(name);
  if (!info) throw new WireError(`unknown dtype ${String(name)}`);
  return info;
}

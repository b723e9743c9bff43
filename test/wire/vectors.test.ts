import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type DType, type NDArray, type NumericDType, type NumericNDArray, isStringArray } from "../../src/index.js";
import { decodeMessage, encodeMessage } from "../../src/wire/codec.js";
import { dtypeInfo } from "../../src/wire/dtypes.js";

const dir = new URL("../vectors/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir));

interface Expected {
  dtype: DType;
  shape: number[];
  values: (number | string)[];
}
interface Case {
  name: string;
  doc: string;
  header: string;
  frames: string[];
  misalign: boolean;
  expected: Expected[];
}
interface HeaderCase {
  name: string;
  doc: string;
  file: string;
  fields: Record<string, unknown> & { id: number | null };
  arrays: Expected[];
  names: string[] | null;
  decoded: Record<string, unknown>;
}
const { cases, headers } = JSON.parse(read("manifest.json").toString()) as { cases: Case[]; headers: HeaderCase[] };

/** The bytes at an odd offset inside a bigger buffer, as a receive buffer may hand them over. */
function misaligned(bytes: Buffer): Uint8Array {
  const backing = new Uint8Array(bytes.byteLength + 1);
  backing.set(bytes, 1);
  return backing.subarray(1);
}

function values(a: NDArray): (number | string)[] {
  if (isStringArray(a)) return a.data;
  return Array.from(a.data as ArrayLike<number | bigint>, (v) => (typeof v === "bigint" ? v.toString() : v));
}

/** A fixed-size array from its manifest entry (64-bit integers are written as strings there). */
function arrayOf(e: Expected): NDArray {
  const { typedArray } = dtypeInfo(e.dtype as NumericDType);
  const data = new typedArray(e.values.length);
  e.values.forEach((v, i) => (data[i] = (data instanceof BigInt64Array || data instanceof BigUint64Array ? BigInt(v) : Number(v)) as never));
  return { dtype: e.dtype as NumericDType, shape: e.shape, data } as NDArray;
}

describe.each(cases)("vector $name ($doc)", (c) => {
  const header = read(c.header);
  const frames = c.frames.map(read);

  it("decodes to the expected dtypes, shapes and values", () => {
    const received = c.misalign ? frames.map(misaligned) : frames;
    const { header: h, arrays } = decodeMessage([header, ...received]);
    expect(h.op).toBe("echo");
    expect(arrays.map((a) => ({ dtype: a.dtype, shape: a.shape, values: values(a) }))).toEqual(c.expected);
    for (const [i, array] of arrays.entries()) {
      if (isStringArray(array)) continue; // JS strings are copies by nature: there is no view to check
      const a = array as NumericNDArray;
      if (c.misalign && a.data.BYTES_PER_ELEMENT > 1) expect(a.data.buffer).not.toBe((received[i] as Uint8Array).buffer);
      else expect(a.data.buffer).toBe(received[i]!.buffer); // a view: no copy when aligned
    }
  });

  it("encodes back to the same bytes as the Python codec", () => {
    const { arrays } = decodeMessage([header, ...frames]);
    const encoded = encodeMessage({ id: 1, op: "echo", args: {} }, arrays);
    expect(encoded.map((b) => b.toString("hex"))).toEqual([header, ...frames].map((b) => b.toString("hex")));
  });
});

describe.each(headers)("v2 header vector $name ($doc)", (c) => {
  const bytes = read(c.file);
  const arrays = c.arrays.map(arrayOf);

  it("is what the TypeScript codec writes from the same fields, byte for byte", () => {
    expect(encodeMessage(c.fields, arrays, c.names ?? undefined)[0]!.toString("hex")).toBe(bytes.toString("hex"));
  });

  it("reads back as its fields and array descriptors", () => {
    const frames = encodeMessage(c.fields, arrays, c.names ?? undefined).slice(1);
    const { header, arrays: decoded } = decodeMessage([bytes, ...frames]);
    const { arrays: descriptors, ...rest } = header;
    expect(rest).toEqual(c.decoded);
    expect(descriptors).toEqual(c.arrays.map((a, i) => ({ dtype: a.dtype, shape: a.shape, ...(c.names ? { name: c.names[i] } : {}) })));
    expect(decoded.map(values)).toEqual(c.arrays.map((a) => a.values));
  });
});

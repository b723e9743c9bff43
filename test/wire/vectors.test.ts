import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type DType, type NDArray, type NumericNDArray, isStringArray } from "../../src/index.js";
import { decodeMessage, encodeMessage } from "../../src/wire/codec.js";

const dir = new URL("../vectors/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir));

interface Case {
  name: string;
  doc: string;
  header: string;
  frames: string[];
  misalign: boolean;
  expected: { dtype: DType; shape: number[]; values: (number | string)[] }[];
}
const { cases } = JSON.parse(read("manifest.json").toString()) as { cases: Case[] };

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

import { describe, expect, it } from "vitest";
import { DTYPES, type DType, type TypedArrayFor, WireError, decodeMessage, encodeMessage, ndarray, zeros } from "../../src/index.js";

// Compile-time: one entry per TypedArrayFor key; run-time: the same names as protocol/dtypes.json.
const viewOf: { [D in DType]: new (n: number) => TypedArrayFor[D] } = {
  float16: Uint16Array, float32: Float32Array, float64: Float64Array, int8: Int8Array, int16: Int16Array,
  int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array,
  uint64: BigUint64Array, bool: Uint8Array,
};

describe("dtype table", () => {
  it("is the one in protocol/dtypes.json, with the view the types promise", () => {
    expect([...DTYPES.keys()].sort()).toEqual(Object.keys(viewOf).sort());
    for (const [name, info] of DTYPES) expect(info.typedArray).toBe(viewOf[name]);
  });
});

describe("ndarray", () => {
  it("refuses data that does not fit the shape or dtype", () => {
    expect(() => ndarray("float32", [2, 3], new Float32Array(5))).toThrow(/holds 6 elements but data has 5/);
    expect(() => ndarray("float32", [2], new Float64Array(2) as never)).toThrow(/must be a Float32Array/);
    expect(() => ndarray("int8", [-1], new Int8Array(0))).toThrow(WireError);
  });
});

describe("encode", () => {
  it("sends array bytes without copying them", () => {
    const a = zeros("float32", [1024]);
    const [, frame] = encodeMessage({ id: 1, op: "echo" }, [a]);
    expect(frame!.buffer).toBe(a.data.buffer);
  });
});

describe("decode", () => {
  const header = (o: object) => Buffer.from(JSON.stringify({ v: 1, id: 1, ...o }));
  it.each([
    [[Buffer.from("{oops")], /not JSON/],
    [[header({ v: 9 })], /wire version 9/],
    [[header({ arrays: [{ dtype: "float32", shape: [2] }] })], /describes 1 arrays but 0 frames/],
    [[header({ arrays: [{ dtype: "complex64", shape: [1] }] }), Buffer.alloc(8)], /not a wire dtype/],
    [[header({ arrays: [{ dtype: "int16", shape: [3] }] }), Buffer.alloc(4)], /needs 6 bytes, frame has 4/],
    [[header({ arrays: { dtype: "int16", shape: [3] } })], /arrays must be a list/], // was a TypeError from .map
    [[header({ arrays: "float32" })], /arrays must be a list/],
  ])("refuses a malformed message with a reason (%#)", (frames, reason) => {
    expect(() => decodeMessage(frames)).toThrow(WireError);
    expect(() => decodeMessage(frames)).toThrow(reason);
  });

  it("reads a header frame however it is carried: a Buffer, a view into a larger one, a plain Uint8Array", () => {
    const text = JSON.stringify({ v: 1, id: 7, ok: true, result: { x: "é" }, arrays: [] });
    const inside = Buffer.from(`xx${text}yy`);
    for (const frame of [Buffer.from(text), inside.subarray(2, 2 + Buffer.byteLength(text)), new Uint8Array(Buffer.from(text))]) {
      expect(decodeMessage([frame]).header).toEqual({ v: 1, id: 7, ok: true, result: { x: "é" }, arrays: [] });
    }
  });
});

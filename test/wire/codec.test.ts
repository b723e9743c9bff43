import { describe, expect, it } from "vitest";
import { DTYPES, type NumericDType, type TypedArrayFor, WireError, ndarray, zeros } from "../../src/index.js";
import { decodeMessage, encodeMessage, withDeadlineSpent } from "../../src/wire/codec.js";
import { WireVersionError } from "../../src/errors.js";
import { frameBytes, isNDArray } from "../../src/wire/ndarray.js";
import { rawHeader } from "./raw-header.js";

// Compile-time: one entry per TypedArrayFor key; run-time: the same names as protocol/dtypes.json.
const viewOf: { [D in NumericDType]: new (n: number) => TypedArrayFor[D] } = {
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

describe("string arrays", () => {
  const text = ["", "ß", "日本", "🙂", "a\u0000b", "plain"];
  const frameOf = (offsets: number[], bytes: Buffer) => Buffer.concat([Buffer.from(Uint32Array.from(offsets).buffer), bytes]);
  const header = (shape: number[]) => rawHeader({ kind: 1, code: 0, arrays: [{ dtype: "string", shape }] });

  it("travel as uint32 offsets, then the UTF-8 bytes, and decode to the same strings", () => {
    const [, frame] = encodeMessage({ id: 1 }, [ndarray("string", [2, 3], text)]);
    expect(frame).toEqual(frameOf([0, 0, 2, 8, 12, 15, 20], Buffer.from(text.join(""))));
    const { arrays } = decodeMessage(encodeMessage({ id: 1 }, [ndarray("string", [2, 3], text), zeros("string", [0]), zeros("string", [])]));
    expect(arrays).toEqual([{ dtype: "string", shape: [2, 3], data: text }, { dtype: "string", shape: [0], data: [] }, { dtype: "string", shape: [], data: [""] }]);
  });

  it("count their UTF-8 bytes and offsets toward the message cap, not their JS length", () => {
    const a = ndarray("string", [2], ["日本", "ab"]);
    expect(frameBytes(a)).toBe(12 + 6 + 2);
    expect(frameBytes(a)).toBe(encodeMessage({ id: 1 }, [a])[1]!.byteLength);
  });

  it("refuse what UTF-8 cannot carry, naming the element, before anything is sent", () => {
    expect(() => ndarray("string", [2], ["ok", "\ud800"])).toThrow(/string at index 1 holds a lone UTF-16 surrogate/);
    expect(() => ndarray("string", [2], ["ok", 3] as never)).toThrow(/holds a number at index 1/);
    expect(() => ndarray("string", [2], new Uint8Array(2) as never)).toThrow(/must be an array of strings/);
    expect(() => ndarray("string", [3], ["a", "b"])).toThrow(/holds 3 elements but data has 2/);
    expect(() => encodeMessage({ id: 1 }, [zeros("int8", [1]), { dtype: "string", shape: [1], data: ["\udc00"] }])).toThrow(/arrays\[1\]: the string at index 0/);
  });

  it.each([
    [[0, 1, 2], Buffer.from([0x61, 0xff]), [2], /arrays\[0\]: the string at index 1 is not valid UTF-8/],
    [[0, 1, 2], Buffer.from("ß"), [2], /the string at index 0 is not valid UTF-8/], // a character split between two elements
    [[0, 1], Buffer.alloc(0), [2], /needs 12 bytes of offsets, frame has 8/],
    [[1, 1], Buffer.from("a"), [1], /first string offset must be 0/],
    [[0, 2, 1], Buffer.from("ab"), [2], /string offset 2 is 1, outside \[2, 2\]/],
    [[0, 1], Buffer.from("ab"), [1], /offsets end at 1 but the frame holds 2 bytes/],
  ])("refuse a malformed frame with a WireError naming the element (%#)", (offsets, bytes, shape, reason) => {
    const frames = [header(shape), frameOf(offsets, bytes)];
    expect(() => decodeMessage(frames)).toThrow(WireError);
    expect(() => decodeMessage(frames)).toThrow(reason);
  });

  it("are told apart from TypedArray data by isNDArray", () => {
    expect(isNDArray({ dtype: "string", shape: [1], data: ["a"] })).toBe(true);
    expect(isNDArray({ dtype: "string", shape: [1], data: new Uint8Array(1) })).toBe(false);
    expect(isNDArray({ dtype: "uint8", shape: [1], data: ["a"] })).toBe(false);
  });
});

describe("decode", () => {
  it.each([
    [[rawHeader({ arrays: [{ dtype: "float32", shape: [2] }] })], /describes 1 arrays but 0 frames/],
    [[rawHeader({ arrays: [{ dtype: 200, shape: [1] }] }), Buffer.alloc(8)], /dtype code 200 is not in protocol\/dtypes.json/],
    [[rawHeader({ arrays: [{ dtype: "int16", shape: [3] }] }), Buffer.alloc(4)], /needs 6 bytes, frame has 4/],
    [[rawHeader({ arrays: [{ dtype: "int16", shape: [2 ** 53] }] }), Buffer.alloc(4)], /shape\[0\] is past/],
    [[rawHeader({ arrayCount: 1 }), Buffer.alloc(1)], /ends inside its descriptor/],
    [[rawHeader().subarray(0, 20)], /shorter than its 28 fixed bytes/],
    [[rawHeader({ json: "{}", jsonBytes: 5 })], /its fields and 5 bytes of JSON take/],
    [[rawHeader({ json: "{oops" })], /header JSON is not JSON/],
    [[rawHeader({ kind: 9 })], /message kind 9/],
    [[rawHeader({ code: 999 })], /op code 999/],
    [[rawHeader({ kind: 3, code: 99 })], /control code 99/],
    [[Buffer.alloc(0)], /empty header frame/],
  ])("refuses a malformed message with a reason (%#)", (frames, reason) => {
    expect(() => decodeMessage(frames)).toThrow(WireError);
    expect(() => decodeMessage(frames)).toThrow(reason);
  });

  it("refuses a v1 (JSON) header with a WireVersionError naming both versions, however it is carried", () => {
    const v1 = Buffer.from(JSON.stringify({ v: 1, id: 7, ok: true, result: {}, arrays: [] }));
    for (const frame of [v1, new Uint8Array(v1)]) {
      expect(() => decodeMessage([frame])).toThrow(WireVersionError);
      expect(() => decodeMessage([frame])).toThrow(/^wire format v1 \(a JSON header\) arrived.*this side speaks v2$/);
    }
    expect(() => decodeMessage([rawHeader({ version: 3 })])).toThrow(/wire format v3 arrived; this side speaks v2/);
  });

  it("reads a header frame however it is carried: a Buffer, a view into a larger one, a plain Uint8Array", () => {
    const [head] = encodeMessage({ id: 7, ok: true, result: { x: "é" } });
    const inside = Buffer.concat([Buffer.from("xx"), head!, Buffer.from("yy")]);
    for (const frame of [head!, inside.subarray(2, 2 + head!.length), new Uint8Array(head!)]) {
      expect(decodeMessage([frame]).header).toEqual({ v: 2, id: 7, ok: true, result: { x: "é" }, arrays: [] });
    }
  });

  it("round-trips every kind of header with its fields", () => {
    const cases = [
      [{ id: 3, op: "echo", args: { a: [1] }, deadlineMs: 0, progress: true }, { v: 2, id: 3, op: "echo", args: { a: [1] }, deadlineMs: 0, progress: true, arrays: [] }],
      [{ id: null, op: "hello", args: {} }, { v: 2, id: null, op: "hello", args: {}, arrays: [] }],
      [{ id: 0, ok: false, error: { kind: "python" } }, { v: 2, id: 0, ok: false, error: { kind: "python" }, arrays: [] }],
      [{ id: null, ctl: "heartbeat", busy: 2 }, { v: 2, id: null, ctl: "heartbeat", busy: 2, arrays: [] }],
      [{ id: 4, ctl: "progress", phase: "run" }, { v: 2, id: 4, ctl: "progress", phase: "run", arrays: [] }],
    ] as const;
    for (const [fields, header] of cases) expect(decodeMessage(encodeMessage(fields)).header).toEqual(header);
  });

  it("refuses to encode what no header field can carry", () => {
    expect(() => encodeMessage({ id: 1, op: "no.such.op" })).toThrow(/unknown op 'no.such.op'/);
    expect(() => encodeMessage({ id: 1, ctl: "reboot" })).toThrow(/control message "reboot"/);
    expect(() => encodeMessage({ id: -1, op: "echo" })).toThrow(/id must be an integer/);
    expect(() => encodeMessage({ id: 2 ** 53, op: "echo" })).toThrow(/id must be an integer/);
  });
});

describe("a request that waited on its way out", () => {
  const decoded = (frames: Buffer[]) => decodeMessage(frames.map((f) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength))).header;
  it("carries the deadline left after the wait, never 0 (which would mean none), and other headers unchanged", () => {
    const [head, ...rest] = encodeMessage({ id: 7, op: "echo", args: {}, deadlineMs: 1000 }, [ndarray("float32", [2], Float32Array.of(1, 2))]);
    expect(decoded([withDeadlineSpent(head!, 250.2), ...rest])).toMatchObject({ id: 7, op: "echo", deadlineMs: 749 });
    expect(decoded([withDeadlineSpent(head!, 5000), ...rest]).deadlineMs).toBe(1);
    expect(decoded([head!, ...rest]).deadlineMs).toBe(1000); // the original is left as it was
    const [none] = encodeMessage({ id: 8, op: "echo", args: {} });
    expect(withDeadlineSpent(none!, 100)).toBe(none);
  });
});

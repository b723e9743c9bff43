import { describe, expect, it } from "vitest";
import { DTYPES, type NumericDType, type NDArray, elementCount, ndarray } from "../../src/index.js";
import { bytesOf, sharedBridge } from "../helpers.js";

const bridge = sharedBridge();

function randomArray<D extends NumericDType>(dtype: D, shape: number[], seed: number): NDArray<D> {
  const info = DTYPES.get(dtype)!;
  const count = elementCount(shape);
  const bytes = new Uint8Array(count * info.itemsize);
  let s = seed;
  for (let i = 0; i < bytes.length; i++) bytes[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  if (dtype === "bool") bytes.forEach((b, i) => (bytes[i] = b & 1));
  return ndarray(dtype, shape, new info.typedArray(bytes.buffer, 0, count) as NDArray<D>["data"]);
}

describe("binary round trip through the real worker", () => {
  it.each([...DTYPES.keys()])("%s comes back byte-exact with its dtype and shape", async (dtype) => {
    const sent = randomArray(dtype, [3, 5, 7], dtype.length);
    const [back] = await bridge().echo([sent]);
    expect(back!.dtype).toBe(dtype);
    expect(back!.shape).toEqual([3, 5, 7]);
    expect(bytesOf(back!.data).equals(bytesOf(sent.data))).toBe(true);
  });

  it("keeps 0-d scalars and empty arrays", async () => {
    const [scalar, empty] = await bridge().echo([ndarray("float64", [], new Float64Array([2.5])), ndarray("int32", [4, 0], new Int32Array(0))]);
    expect(scalar).toMatchObject({ dtype: "float64", shape: [] });
    expect(scalar!.data[0]).toBe(2.5);
    expect(empty).toMatchObject({ dtype: "int32", shape: [4, 0] });
  });

  it("carries a 64 MiB array byte-exact", async () => {
    const sent = randomArray("float32", [16, 1024, 1024], 42);
    const [back] = await bridge().echo([sent]);
    expect(bytesOf(back!.data).byteLength).toBe(64 * 1024 * 1024);
    expect(bytesOf(back!.data).equals(bytesOf(sent.data))).toBe(true);
  });

  it("keeps many requests in flight and matches each reply to its request", async () => {
    const sent = Array.from({ length: 200 }, (_, i) => ndarray("int32", [1], new Int32Array([i])));
    const back = await Promise.all(sent.map((a) => bridge().echo([a])));
    expect(back.map(([a]) => a!.data[0])).toEqual(sent.map((a) => a.data[0]));
  });
});

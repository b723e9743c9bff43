import { describe, expect, it } from "vitest";
import { predictResponse } from "../../src/http/tensors.js";
import { type NDArray, ndarray } from "../../src/wire/ndarray.js";

// predictResponse writes its JSON text straight from the typed arrays; it must be, byte for byte, what
// JSON.stringify writes for the same answer built as nested lists (as it was built until 2026-12-05).

/** The nested lists JSON.stringify is given for `a`: int64 as numbers, bool as booleans. */
function lists(a: NDArray): unknown {
  const flat = Array.from(a.data as ArrayLike<unknown>, (x) => (typeof x === "bigint" ? Number(x) : a.dtype === "bool" ? x === 1 : x));
  const nest = (offset: number, depth: number): unknown => {
    if (depth === a.shape.length) return flat[offset];
    const stride = a.shape.slice(depth + 1).reduce((n, d) => n * d, 1);
    return Array.from({ length: a.shape[depth]! }, (_, i) => nest(offset + i * stride, depth + 1));
  };
  return nest(0, 0);
}

function stringified(outputs: Record<string, NDArray>, names: string[], rows: boolean): string {
  if (!rows) return JSON.stringify({ outputs: names.length === 1 ? lists(outputs[names[0]!]!) : Object.fromEntries(names.map((n) => [n, lists(outputs[n]!)])) });
  const perOutput = names.map((n) => lists(outputs[n]!) as unknown[]);
  return JSON.stringify({
    predictions: Array.from({ length: perOutput[0]!.length }, (_, i) => (names.length === 1 ? perOutput[0]![i] : Object.fromEntries(names.map((n, k) => [n, perOutput[k]![i]])))),
  });
}

const f32 = ndarray("float32", [2, 3, 2], Float32Array.from([0.1, -0, NaN, Infinity, -Infinity, 1e-7, 3.4e38, -1.5, 2 ** -149, 0, 1, 123456.789]));
const cases: [string, Record<string, NDArray>][] = [
  ["float32 with NaN, infinities, -0 and subnormals", { y: f32 }],
  ["float64", { y: ndarray("float64", [3], Float64Array.from([Math.PI, 1e21, -1e-300])) }],
  ["int32 and uint8", { a: ndarray("int32", [2, 2], Int32Array.from([-2147483648, 0, 7, 2147483647])), b: ndarray("uint8", [2], Uint8Array.from([0, 255])) }],
  ["int64", { y: ndarray("int64", [2, 1], BigInt64Array.from([-(2n ** 53n), 2n ** 62n])) }],
  ["bool", { y: ndarray("bool", [2, 2], Uint8Array.from([1, 0, 0, 1])) }],
  ["strings with quotes, escapes and non-ASCII", { y: ndarray("string", [2], ['say "hi"\n', "naïve ☃ \u0001"]) }],
  ["a scalar beside a batch", { batch: ndarray("float32", [2, 2], Float32Array.from([1, 2, 3, 4])), scalar: ndarray("float32", [], Float32Array.from([5])) }],
  ["outputs with fewer examples than the first", { long: ndarray("float32", [3], Float32Array.from([1, 2, 3])), short: ndarray("float32", [1, 2], Float32Array.from([4, 5])) }],
  ["empty axes", { y: ndarray("float32", [2, 0, 3], new Float32Array(0)), z: ndarray("float32", [0], new Float32Array(0)) }],
  ["a scalar alone", { y: ndarray("int32", [], Int32Array.from([9])) }],
];

describe("predictResponse: float16 by value", () => {
  it("writes each element's value, not its IEEE half bits (it wrote 15360 for 1)", () => {
    // 1, -2, the largest half, the smallest subnormal, +Infinity, NaN, -0, 1/3 rounded to half
    const bits = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x7e00, 0x8000, 0x3555]);
    expect(predictResponse({ y: ndarray("float16", [8], bits) }, ["y"], true)).toBe('{"predictions":[1,-2,65504,5.960464477539063e-8,null,null,0,0.333251953125]}');
    expect(predictResponse({ y: ndarray("float16", [2, 1], Uint16Array.from([0x3800, 0x4248])) }, ["y"], false)).toBe('{"outputs":[[0.5],[3.140625]]}');
  });
});

describe("predictResponse: the same text JSON.stringify writes", () => {
  for (const [label, outputs] of cases) {
    for (const rows of [true, false]) {
      it(`${label}, ${rows ? "row" : "columnar"} format, each output alone and all together`, () => {
        const names = Object.keys(outputs);
        for (const n of names) expect(predictResponse(outputs, [n], rows)).toBe(stringified(outputs, [n], rows));
        expect(predictResponse(outputs, names, rows)).toBe(stringified(outputs, names, rows));
        expect(predictResponse(outputs, [...names].reverse(), rows)).toBe(stringified(outputs, [...names].reverse(), rows));
      });
    }
  }
});

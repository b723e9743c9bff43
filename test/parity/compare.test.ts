import { describe, expect, it } from "vitest";
import { compareArrays, formatComparison, normwise } from "../../src/parity/compare.js";
import { ulpDistance32, ulpDistance64 } from "../../src/parity/ulp.js";
import { ndarray } from "../../src/index.js";

const f32 = (shape: number[], values: number[]) => ndarray("float32", shape, Float32Array.from(values));
const exact = { atol: 0, rtol: 0 };
const next32 = (x: number) => {
  const f = new Float32Array([x]);
  new Int32Array(f.buffer)[0]! += 1;
  return f[0]!;
};

describe("ULP distance", () => {
  it("counts representable floats between two values, across zero", () => {
    expect(ulpDistance32(1, 1)).toBe(0);
    expect(ulpDistance32(1, next32(1))).toBe(1);
    expect(ulpDistance32(0, -0)).toBe(0);
    expect(ulpDistance32(1.401298464324817e-45, -1.401298464324817e-45)).toBe(2); // ± the smallest subnormal
    expect(ulpDistance64(1, 1 + Number.EPSILON)).toBe(1);
  });
});

describe("compareArrays", () => {
  it("reports identical arrays as 0 ULP with no worst element", () => {
    const c = compareArrays(f32([2], [1, 2]), f32([2], [1, 2]), exact);
    expect(c).toMatchObject({ pass: true, maxUlp: 0, maxAbsError: 0, outside: 0, worst: null, ulpHistogram: { "0": 2 } });
  });

  it("applies atol + rtol·|expected| per element, like numpy allclose", () => {
    const c = compareArrays(f32([3], [1.05, 10.5, 0]), f32([3], [1, 10, 0]), { atol: 0.01, rtol: 0.045 });
    // |1.05-1| = .05 ≤ .01+.045 → in; |10.5-10| = .5 > .01+.45 → out
    expect(c.outside).toBe(1);
    expect(c.pass).toBe(false);
    expect(c.worst!.index).toEqual([1]);
    expect(c.maxRelError).toBeCloseTo(0.05, 6);
  });

  it("normwise: an element near zero beside large ones may carry their error (a residual sum that nearly cancels)", () => {
    // NASNetMobile on the JS CPU backend: 1.2e-5 on an element of 0.05 whose neighbours reach 8.
    const expected = f32([3], [8, -7.95, 0.05]);
    const actual = f32([3], [8, -7.95, 0.050012]);
    const tolerance = { atol: 1e-5, rtol: 1e-5 };
    expect(compareArrays(actual, expected, tolerance).pass).toBe(false);
    expect(normwise(tolerance, expected)).toEqual({ atol: 1e-5 + 8e-5, rtol: 0 });
    expect(compareArrays(actual, expected, normwise(tolerance, expected)).pass).toBe(true);
    // Infinities and NaN do not set the scale.
    expect(normwise(tolerance, f32([3], [Infinity, NaN, 2])).atol).toBeCloseTo(1e-5 + 2e-5, 12);
  });

  it("finds the first timestep outside tolerance in a [batch, time, units] output", () => {
    const expected = f32([2, 3, 2], new Array(12).fill(0.5));
    const values = new Array(12).fill(0.5);
    values[1 * 6 + 2 * 2 + 1] = 0.6; // batch 1, t 2
    values[0 * 6 + 1 * 2 + 0] = 0.7; // batch 0, t 1
    const c = compareArrays(f32([2, 3, 2], values), expected, exact);
    expect(c.firstBadTimestep).toBe(1);
    expect(c.worst!.index).toEqual([0, 1, 0]);
  });

  it("matches NaN only with NaN and reports it", () => {
    const c = compareArrays(f32([3], [NaN, NaN, 1]), f32([3], [NaN, 0, NaN]), exact);
    expect(c.nan).toEqual({ expected: 2, actual: 2, mismatched: 2 });
    expect(c.outside).toBe(2);
    expect(compareArrays(f32([1], [NaN]), f32([1], [NaN]), exact).pass).toBe(true);
  });

  it("matches ±Inf only with the same infinity", () => {
    expect(compareArrays(f32([2], [Infinity, -Infinity]), f32([2], [Infinity, -Infinity]), exact).pass).toBe(true);
    const c = compareArrays(f32([2], [Infinity, 1]), f32([2], [-Infinity, 1]), { atol: 1e30, rtol: 0 });
    expect(c.infinite.mismatched).toBe(1);
    expect(c.pass).toBe(false);
  });

  it("refuses to compare different shapes or dtypes", () => {
    expect(compareArrays(f32([2], [1, 2]), f32([1, 2], [1, 2]), exact)).toMatchObject({ comparable: false, pass: false });
    const f64 = ndarray("float64", [2], new Float64Array([1, 2]));
    expect(compareArrays(f32([2], [1, 2]), f64, exact).comparable).toBe(false);
    expect(formatComparison(compareArrays(f32([2], [1, 2]), f64, exact))).toMatch(/not comparable/);
  });

  it("buckets ULP distances in order", () => {
    const c = compareArrays(f32([3], [1, next32(1), next32(next32(next32(1)))]), f32([3], [1, 1, 1]), exact);
    expect(Object.entries(c.ulpHistogram)).toEqual([["0", 1], ["≤1", 1], ["≤4", 1]]);
  });
});

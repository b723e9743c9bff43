import { type NDArray, elementCount } from "../wire/ndarray.js";
import { ulpDistance32, ulpDistance64 } from "./ulp.js";

/** numpy `allclose` semantics: |actual − expected| ≤ atol + rtol·|expected|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * `tolerance` as a normwise bound on `expected`: every element within `atol + rtol·max|expected|`.
 * Rounding errors of a dot product scale with its terms, not with its result, so an element near zero
 * where its neighbours are large (a residual sum that nearly cancels) may carry the error of their
 * magnitude; the JS CPU backend's drift through a deep model is bounded this way.
 */
export function normwise(tolerance: Tolerance, expected: NDArray): Tolerance {
  const data = expected.data as ArrayLike<number>;
  let scale = 0;
  for (let i = 0; i < data.length; i++) if (Number.isFinite(data[i]!)) scale = Math.max(scale, Math.abs(data[i]!));
  return { atol: tolerance.atol + tolerance.rtol * scale, rtol: 0 };
}

/** Upper bounds of the ULP histogram's buckets; the last bucket holds everything above. */
export const ULP_BUCKETS = [0, 1, 2, 4, 16, 256, 65536] as const;

export interface WorstElement {
  /** Its index in the array, one entry per axis. */
  index: number[];
  actual: number;
  expected: number;
  absError: number;
  ulp: number;
}

/** How far `actual` is from `expected`, element by element. */
export interface Comparison {
  dtype: { actual: string; expected: string };
  shape: { actual: number[]; expected: number[] };
  /** Shapes and dtypes agree; when false no element is compared. */
  comparable: boolean;
  elements: number;
  tolerance: Tolerance;
  maxAbsError: number;
  /** Over elements whose expected value is not 0. */
  maxRelError: number;
  maxUlp: number;
  /** Counts of elements per ULP distance: `"0"`, `"≤1"`, `"≤2"`, … `">65536"`. */
  ulpHistogram: Record<string, number>;
  /** Elements outside `atol + rtol·|expected|` (NaN against a number counts, NaN against NaN does not). */
  outside: number;
  /** The element with the largest absolute error, `null` when every element is identical. */
  worst: WorstElement | null;
  /** For [batch, time, …] sequence outputs: the first timestep holding an element outside tolerance. */
  firstBadTimestep: number | null;
  /** For [batch, time, …] sequence outputs: the largest absolute error at each timestep, else null. */
  timestepMaxAbsError: number[] | null;
  nan: { expected: number; actual: number; mismatched: number };
  infinite: { mismatched: number };
  pass: boolean;
}

function bucketLabel(ulp: number): string {
  if (ulp === 0) return "0";
  const bound = ULP_BUCKETS.find((b) => ulp <= b);
  return bound === undefined ? `>${ULP_BUCKETS.at(-1)}` : `≤${bound}`;
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index[axis] = flat % shape[axis]!;
    flat = Math.floor(flat / shape[axis]!);
  }
  return index;
}

/**
 * Compares two float arrays. `timeAxis` (default 1 for rank-3 arrays, as in [batch, time, units])
 * is where {@link Comparison.firstBadTimestep} is looked up.
 */
export function compareArrays(actual: NDArray, expected: NDArray, tolerance: Tolerance, timeAxis?: number): Comparison {
  const sameShape = actual.shape.length === expected.shape.length && actual.shape.every((d, i) => d === expected.shape[i]);
  const floating = (d: string) => d === "float32" || d === "float64";
  const comparable = sameShape && actual.dtype === expected.dtype && floating(actual.dtype);
  // Every bucket in order, so the histogram reads left to right; empty ones are dropped at the end.
  const histogram: Record<string, number> = Object.fromEntries([...ULP_BUCKETS.map(bucketLabel), bucketLabel(Infinity)].map((k) => [k, 0]));
  const c: Comparison = {
    dtype: { actual: actual.dtype, expected: expected.dtype },
    shape: { actual: [...actual.shape], expected: [...expected.shape] },
    comparable,
    elements: comparable ? expected.data.length : 0,
    tolerance,
    maxAbsError: 0,
    maxRelError: 0,
    maxUlp: 0,
    ulpHistogram: histogram,
    outside: 0,
    worst: null,
    firstBadTimestep: null,
    timestepMaxAbsError: null,
    nan: { expected: 0, actual: 0, mismatched: 0 },
    infinite: { mismatched: 0 },
    pass: false,
  };
  if (!comparable) return c;

  const a = actual.data as Float32Array | Float64Array;
  const e = expected.data as Float32Array | Float64Array;
  const ulpOf = actual.dtype === "float32" ? ulpDistance32 : ulpDistance64;
  const axis = timeAxis ?? (expected.shape.length === 3 ? 1 : undefined);
  const stride = axis === undefined ? 0 : elementCount(expected.shape.slice(axis + 1));
  const steps = axis === undefined ? 0 : expected.shape[axis]!;
  const perStep = axis === undefined ? null : new Array<number>(steps).fill(0);
  let worstFlat = -1;
  let worstUlp = 0;
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    let bad: boolean;
    let abs: number;
    let ulp: number;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(y)) c.nan.expected++;
      if (Number.isNaN(x)) c.nan.actual++;
      bad = Number.isNaN(x) !== Number.isNaN(y);
      if (bad) c.nan.mismatched++;
      abs = bad ? Infinity : 0;
      ulp = bad ? Infinity : 0;
    } else if (!Number.isFinite(x) || !Number.isFinite(y)) {
      bad = x !== y;
      if (bad) c.infinite.mismatched++;
      abs = bad ? Infinity : 0;
      ulp = bad ? Infinity : 0;
    } else {
      abs = Math.abs(x - y);
      ulp = ulpOf(x, y);
      bad = abs > tolerance.atol + tolerance.rtol * Math.abs(y);
      if (y !== 0) c.maxRelError = Math.max(c.maxRelError, abs / Math.abs(y));
    }
    if (perStep) {
      const t = Math.floor(i / stride) % steps;
      if (abs > perStep[t]!) perStep[t] = abs;
    }
    const label = bucketLabel(ulp);
    histogram[label]!++;
    c.maxUlp = Math.max(c.maxUlp, ulp);
    if (abs > c.maxAbsError) {
      c.maxAbsError = abs;
      worstFlat = i;
      worstUlp = ulp;
    }
    if (bad) {
      c.outside++;
      if (axis !== undefined) {
        const t = Math.floor(i / stride) % steps;
        if (c.firstBadTimestep === null || t < c.firstBadTimestep) c.firstBadTimestep = t;
      }
    }
  }
  if (worstFlat >= 0) {
    c.worst = { index: unravel(worstFlat, expected.shape), actual: a[worstFlat]!, expected: e[worstFlat]!, absError: c.maxAbsError, ulp: worstUlp };
  }
  c.timestepMaxAbsError = perStep;
  for (const [label, n] of Object.entries(histogram)) if (n === 0) delete histogram[label];
  c.pass = c.outside === 0;
  return c;
}

/** A few lines a person can read: verdict, error statistics, the worst element. */
export function formatComparison(c: Comparison): string {
  if (!c.comparable) {
    return `not comparable: actual ${c.dtype.actual}[${c.shape.actual}] vs expected ${c.dtype.expected}[${c.shape.expected}] (float32/float64 of one shape needed)`;
  }
  const lines = [
    `${c.pass ? "within" : "OUTSIDE"} tolerance atol=${c.tolerance.atol} rtol=${c.tolerance.rtol}: ${c.outside} of ${c.elements} elements outside`,
    `max abs error ${c.maxAbsError.toExponential(3)}, max rel error ${c.maxRelError.toExponential(3)}, max ULP ${c.maxUlp}`,
    `ULP histogram: ${Object.entries(c.ulpHistogram).map(([k, n]) => `${k}: ${n}`).join(", ")}`,
  ];
  if (c.worst) {
    const w = c.worst;
    lines.push(`worst element [${w.index}]: actual ${w.actual} expected ${w.expected} (abs ${w.absError.toExponential(3)}, ${w.ulp} ULP)`);
  }
  if (c.firstBadTimestep !== null) lines.push(`first timestep outside tolerance: ${c.firstBadTimestep}`);
  if (c.nan.expected || c.nan.actual) lines.push(`NaN: ${c.nan.expected} expected, ${c.nan.actual} actual, ${c.nan.mismatched} mismatched`);
  if (c.infinite.mismatched) lines.push(`±Inf mismatched: ${c.infinite.mismatched}`);
  return lines.join("\n");
}

/**
 * Units in the last place between two floats of the same width: how many representable values lie
 * between them. 0 means bit-identical (or +0 vs −0). NaN has no distance; callers handle it first.
 */
export function ulpDistance32(a: number, b: number): number {
  return Math.abs(ordered32(a) - ordered32(b));
}

export function ulpDistance64(a: number, b: number): number {
  const d = ordered64(a) - ordered64(b);
  return Number(d < 0n ? -d : d);
}

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);
const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);

// Maps the float's bits onto a line where adjacent floats are adjacent integers (negatives mirrored).
function ordered32(x: number): number {
  f32[0] = x;
  const bits = i32[0]!;
  return bits >= 0 ? bits : -2147483648 - bits;
}

function ordered64(x: number): bigint {
  f64[0] = x;
  const bits = i64[0]!;
  return bits >= 0n ? bits : -9223372036854775808n - bits;
}

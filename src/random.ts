import { type NDArray, elementCount, ndarray } from "./wire/ndarray.js";

/**
 * Uniform float32 values in [low, high) from a 32-bit seed (mulberry32): the same numbers on every
 * run and machine, for demo and parity inputs that must be reproducible.
 */
export function uniformFloat32(length: number, seed: number, low = 0, high = 1): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length }, () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return low + (((t ^ (t >>> 14)) >>> 0) / 4294967296) * (high - low);
  });
}

/** Uniform [-1, 1) float32 input of `shape`, the same for the same seed on every run. */
export function seededInput(shape: readonly number[], seed: number): NDArray<"float32"> {
  return ndarray("float32", shape, uniformFloat32(elementCount(shape), seed, -1, 1));
}

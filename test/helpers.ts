import { afterAll, beforeAll } from "vitest";
import { Bridge, type BridgeOptions } from "../src/index.js";

/** A real worker shared by the tests of one file, closed after them. */
export function sharedBridge(options: BridgeOptions = {}): () => Bridge {
  let bridge: Bridge | undefined;
  beforeAll(async () => {
    bridge = await Bridge.start(options);
  });
  afterAll(async () => {
    await bridge?.close();
  });
  return () => bridge!;
}

/** Deterministic pseudo-random float32 values in [-1, 1). */
export function randomFloat32(length: number, seed = 1): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

export function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

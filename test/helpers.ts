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

export function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

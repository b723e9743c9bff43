import { readFileSync } from "node:fs";
import { afterAll, beforeAll } from "vitest";
import { Bridge, type BridgeOptions, type NDArray } from "../src/index.js";
import { arrayFrame } from "../src/wire/codec.js";

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

/** An array's data as bytes to compare: a TypedArray's own memory, a string array's wire frame. */
export function bytesOf(data: NDArray["data"]): Buffer {
  return Array.isArray(data) ? arrayFrame({ dtype: "string", shape: [data.length], data }, "data") : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The pid of a process's parent (Linux): for a worker, the fork server it was forked from, or Node. */
export function parentOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
}

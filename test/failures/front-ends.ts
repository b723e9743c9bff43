import { afterAll, beforeAll } from "vitest";
import { Bridge, type BridgeOptions, Pool, type PoolOptions, type TensorflowClient } from "../../src/index.js";

/** The two front ends the failure suite runs over (`describe.each`), each with one real worker. */
export function frontEnds(options: BridgeOptions & PoolOptions = {}): [string, () => Promise<TensorflowClient>][] {
  return [
    ["Bridge", () => Bridge.start(options)],
    ["Pool", () => Pool.start({ size: 1, ...options })],
  ];
}

/** A client started before the tests of a `describe` and closed after them. */
export function sharedClient(start: () => Promise<TensorflowClient>): () => TensorflowClient {
  let client: TensorflowClient | undefined;
  beforeAll(async () => {
    client = await start();
  });
  afterAll(async () => {
    await client?.close();
  });
  return () => client!;
}

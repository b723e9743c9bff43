import { afterAll, beforeAll } from "vitest";
import { Bridge, type BridgeOptions, Pool, type PoolOptions, type TensorflowClient } from "../../src/index.js";

/**
 * The front ends × links the failure suite runs over (`describe.each`), each with one real worker:
 * a Bridge and a Pool, each over the local link (the default) and over ZeroMQ. Both front ends run on
 * the same request engine (src/engine/), so these cells can no longer drift apart.
 */
export function frontEnds(options: BridgeOptions & PoolOptions = {}): [string, () => Promise<TensorflowClient>][] {
  return [
    ["Bridge × local link", () => Bridge.start({ ...options, link: "local" })],
    ["Bridge × ZeroMQ link", () => Bridge.start({ ...options, link: "zeromq" })],
    ["Pool × local link", () => Pool.start({ size: 1, ...options, link: "local" })],
    ["Pool × ZeroMQ link", () => Pool.start({ size: 1, ...options, link: "zeromq" })],
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

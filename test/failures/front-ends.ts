import { afterAll, beforeAll } from "vitest";
import { Bridge, type BridgeOptions, Pool, type PoolOptions, type TensorflowClient } from "../../src/index.js";

/**
 * The front ends × links the failure suite runs over (`describe.each`), each with one real worker:
 * a Bridge over the local link (its default) and over ZeroMQ, and a Pool (whose workers use ZeroMQ).
 */
export function frontEnds(options: BridgeOptions & PoolOptions = {}): [string, () => Promise<TensorflowClient>][] {
  return [
    ["Bridge × local link", () => Bridge.start({ ...options, link: "local" })],
    ["Bridge × ZeroMQ link", () => Bridge.start({ ...options, link: "zeromq" })],
    ["Pool × ZeroMQ link", () => Pool.start({ size: 1, ...options })],
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

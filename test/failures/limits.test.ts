import { describe, expect, it } from "vitest";
import { MessageTooLargeError, Pool, WireError, ndarray, zeros } from "../../src/index.js";
import { encodeMessage } from "../../src/wire/codec.js";
import { frontEnds, sharedClient } from "./front-ends.js";

/** Both front ends, under one small message cap, so the two cannot drift apart (issue 10). */
const CAP = 64 * 1024;
describe.each(frontEnds({ maxMessageBytes: CAP }))("%s", (_, start) => {
  const client = sharedClient(start);

  describe("one cap per message, all frames and args counted, checked before sending", () => {
    it("an array over the cap fails with MessageTooLargeError, at once", async () => {
      await expect(client().echo([zeros("uint8", [CAP + 1])], { timeoutMs: 30_000 })).rejects.toThrow(MessageTooLargeError);
    });

    it("two frames each under the cap, together over it", async () => {
      const half = zeros("uint8", [CAP / 2 + 1]);
      await expect(client().echo([half, half], { timeoutMs: 30_000 })).rejects.toThrow(MessageTooLargeError);
    });

    it("args count too", async () => {
      // @ts-expect-error: echo takes no arguments; this one only makes the message large
      await expect(client().call("echo", { pad: "x".repeat(CAP) }, [], { timeoutMs: 30_000 })).rejects.toThrow(MessageTooLargeError);
    });

    it("a reply over the cap fails that request only, typed", async () => {
      // 400 bytes in, 100 × 256 float32 = 100 KiB out.
      const error = await client()
        .runLstm({ units: 256, inputShape: [100, 1], returnSequences: true }, zeros("float32", [1, 100, 1]), { timeoutMs: 60_000 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MessageTooLargeError);
      const [back] = await client().echo([ndarray("int32", [2], Int32Array.of(1, 2))]);
      expect([...back!.data]).toEqual([1, 2]);
      const c = client();
      if (c instanceof Pool) expect(c.stats.replaced).toBe(0);
    });
  });

  describe("timeouts without end", () => {
    it.each([Infinity, 2 ** 31, 2 ** 53])("timeoutMs %s waits for the reply", async (timeoutMs) => {
      await expect(client().call("sleep", { seconds: 0.2 }, [], { timeoutMs })).resolves.toMatchObject({ result: { slept: 0.2 } });
    });
  });

  describe("bool payloads", () => {
    it("bytes other than 0 and 1 are refused in Node, before sending", async () => {
      const bad = { dtype: "bool" as const, shape: [2], data: Uint8Array.of(0, 2) };
      await expect(client().echo([bad], { timeoutMs: 30_000 })).rejects.toThrow(WireError);
      const [back] = await client().echo([ndarray("bool", [3], Uint8Array.of(1, 0, 1))]);
      expect([...back!.data]).toEqual([1, 0, 1]);
    });
  });
});

describe("ndarray and encodeMessage", () => {
  it("refuse bool data other than 0/1", () => {
    expect(() => ndarray("bool", [2], Uint8Array.of(0, 2))).toThrow(/only 0 and 1/);
    expect(() => encodeMessage({ id: 1 }, [{ dtype: "bool", shape: [1], data: Uint8Array.of(255) }])).toThrow(WireError);
  });
});

import { describe, expect, it } from "vitest";
import { Bridge, MessageTooLargeError, WireError, isSharedArray, ndarray, zeros } from "../../src/index.js";
import { sharedClient } from "../failures/front-ends.js";

const TEXT = ["", "ß", "日本", "🙂", "a\u0000b", "plain"];
/** 2,000 words: a 26 KB frame, over the local link's 4 KiB inline limit both ways. */
const WORDS = Array.from({ length: 2000 }, (_, i) => `wört ${i}`);

describe.each([
  ["local link", () => Bridge.start({ link: "local" })],
  ["ZeroMQ link", () => Bridge.start({ link: "zeromq" })],
] as const)("string arrays through a real worker over the %s", (_, start) => {
  const client = sharedClient(start);

  it("come back with their dtype, shape and text: empty strings, non-ASCII, 0-d, empty, 2-D", async () => {
    const sent = [ndarray("string", [2, 3], TEXT), zeros("string", [0]), ndarray("string", [], ["scalar"]), ndarray("float32", [2], Float32Array.of(1, 2))];
    const back = await client().echo(sent);
    expect(back).toEqual(sent);
  });

  it("come back as plain arrays, not shared memory, however large", async () => {
    const [back] = await client().echo([ndarray("string", [1000, 2], WORDS)]);
    expect(isSharedArray(back!)).toBe(false);
    expect(back).toEqual({ dtype: "string", shape: [1000, 2], data: WORDS });
  });

  it("that UTF-8 cannot carry are refused in Node, and the worker serves on", async () => {
    await expect(client().echo([{ dtype: "string", shape: [2], data: ["ok", "\ud83d"] }])).rejects.toThrow(/index 1 holds a lone UTF-16 surrogate/);
    await expect(client().echo([{ dtype: "string", shape: [2], data: ["ok", "\ud83d"] }])).rejects.toThrow(WireError);
    const [back] = await client().echo([ndarray("string", [1], ["still serving"])]);
    expect(back!.data).toEqual(["still serving"]);
  });
});

describe("the message cap", () => {
  const CAP = 64 * 1024;
  const client = sharedClient(() => Bridge.start({ maxMessageBytes: CAP }));

  it("counts a string array's UTF-8 bytes and offsets, not its JS length, before encoding it", async () => {
    const wide = ndarray("string", [1], ["日".repeat(21_846)]); // 21,846 UTF-16 units, 65,538 UTF-8 bytes
    const error = await client().echo([wide]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as Error).message).toContain("65546 bytes"); // its frame alone: counted before any header is made
  });
});

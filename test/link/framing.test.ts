import { describe, expect, it } from "vitest";
import { INLINE, LAYOUT, MESSAGE, SHARED, StreamReader, decodeFrames, encodeFrames } from "../../src/link/framing.js";
import { encodeMessage } from "../../src/wire/codec.js";

const [header] = encodeMessage({ id: 7, ok: true, result: {} });

describe("the local link's framing", () => {
  it("cuts a stream into the same bodies whether messages arrive whole, split or several to a chunk", () => {
    const messages = [header!, Buffer.from("x"), Buffer.alloc(70_000, 1)].map((bytes) => Buffer.concat(encodeFrames(MESSAGE, [{ where: INLINE, bytes }])));
    const stream = Buffer.concat(messages);
    const expected = messages.map((m) => m.subarray(4));
    const read = (chunks: Buffer[]) => {
      const reader = new StreamReader();
      return chunks.flatMap((c) => reader.push(c)).map((b) => Buffer.from(b));
    };
    expect(read(messages)).toEqual(expected);
    expect(read([stream])).toEqual(expected);
    expect(read(Array.from({ length: Math.ceil(stream.length / 7) }, (_, i) => stream.subarray(i * 7, i * 7 + 7)))).toEqual(expected);
    expect(read([stream.subarray(0, 2), stream.subarray(2, messages[0]!.length), ...messages.slice(1)])).toEqual(expected);
  });
});

describe("a length prefix over what the peer may send (issue 23 #4)", () => {
  it("is refused at the prefix, before any of the body is kept", () => {
    const reader = new StreamReader(1024);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32LE(0xffff_ffff, 0); // 4 GiB announced
    expect(() => reader.push(Buffer.concat([prefix, Buffer.alloc(100)]))).toThrow(/4294967295 bytes announced, over the 1024/);
    const fits = Buffer.concat(encodeFrames(MESSAGE, [{ where: INLINE, bytes: Buffer.alloc(1000, 2) }]));
    expect(new StreamReader(1024).push(fits)).toHaveLength(1);
  });
});

describe("the framing's layout", () => {
  it("is protocol/local-link.json's, which the worker reads too: a 9-byte prefix, then 17-byte entries", () => {
    expect(LAYOUT).toEqual({
      prefix: [["bodyBytes", "u32"], ["kind", "u8"], ["frameCount", "u32"]],
      entry: [["where", "u8"], ["offset", "u64"], ["length", "u64"]],
    });
    const [head] = encodeFrames(MESSAGE, [{ where: SHARED, offset: 2 ** 40 + 3, length: 5 }]);
    expect(Buffer.from(head!).toString("hex")).toBe("16000000" + "00" + "01000000" + "01" + "0300000000010000" + "0500000000000000");
    expect(decodeFrames(Buffer.from(head!).subarray(4)).entries).toEqual([{ where: SHARED, offset: 2 ** 40 + 3, length: 5 }]);
  });
});

import { describe, expect, it } from "vitest";
import { INLINE, MESSAGE, StreamReader, encodeFrames } from "../../src/link/framing.js";

const header = Buffer.from('{"v":1,"id":7,"ok":true,"result":{},"arrays":[]}');

describe("the local link's framing", () => {
  it("cuts a stream into the same bodies whether messages arrive whole, split or several to a chunk", () => {
    const messages = [header, Buffer.from("x"), Buffer.alloc(70_000, 1)].map((bytes) => Buffer.concat(encodeFrames(MESSAGE, [{ where: INLINE, bytes }])));
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

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pair } from "zeromq";
import { describe, expect, it } from "vitest";
import { PythoniaChannel, type PythoniaMessage } from "../../src/proxies/channel.js";

describe("PythoniaChannel", () => {
  it("a reply handler that throws fails its own request only; the receive loop goes on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfbridge-channel-"));
    const peer = new Pair({ linger: 0 });
    const endpoint = `ipc://${join(dir, "pair.sock")}`;
    await peer.bind(endpoint);
    const channel = new PythoniaChannel(endpoint);
    try {
      const first: PythoniaMessage[] = [];
      const second = new Promise<PythoniaMessage>((resolve) => {
        channel.write({ r: 1, action: "get" }, (m) => {
          first.push(m);
          if (first.length === 1) throw new Error("handler bug");
          return false;
        });
        channel.write({ r: 2, action: "get" }, (m) => resolve(m));
      });
      await peer.receive();
      await peer.receive();
      await peer.send(JSON.stringify({ r: 1, key: "pre", val: {} }));
      await peer.send(JSON.stringify({ r: 2, key: "int", val: 7 }));
      expect((await second).val).toBe(7);
      // The throwing handler was answered once more, with its error, and then forgotten.
      expect(first).toHaveLength(2);
      expect(first[1]!.key).toBe("error");
      expect(() => first[1]!.sig).toThrow("handler bug");
    } finally {
      channel.close(new Error("test over"));
      peer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

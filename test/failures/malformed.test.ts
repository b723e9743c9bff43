import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Dealer, Router } from "zeromq";
import { Pool, WireError, decodeMessage, encodeMessage } from "../../src/index.js";
import { ZeroMqLink } from "../../src/link/zeromq-link.js";
import { Connection } from "../../src/worker/connection.js";

/**
 * A peer that answers `ok: false` with no `error` (issue 10, break 2): that request fails with a
 * WireError, and everything else goes on. The misbehaving peer is a real ZeroMQ socket.
 */
const dir = mkdtempSync(join(tmpdir(), "tfbridge-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HELLO = { protocol: 1, pid: 0, python: "", numpy: "", tensorflow: "", keras: "", ops: [] };

describe("a malformed reply", () => {
  it("on a Bridge's connection fails that request only", async () => {
    const endpoint = `ipc://${join(dir, "worker.sock")}`;
    const worker = new Router({ linger: 0 });
    await worker.bind(endpoint);
    const connection = new Connection(new ZeroMqLink(endpoint));
    try {
      const serve = (async () => {
        let n = 0;
        for await (const [identity, ...frames] of worker) {
          const { header } = decodeMessage(frames);
          if (header.ctl) continue;
          const reply = n++ === 0 ? { id: header.id, ok: false } : { id: header.id, ok: true, result: { n } };
          await worker.send([identity!, ...encodeMessage(reply)]);
        }
      })().catch(() => {});
      await expect(connection.request("hello", {}, [], { timeoutMs: 10_000 })).rejects.toThrow(WireError);
      await expect(connection.request("hello", {}, [], { timeoutMs: 10_000 })).resolves.toMatchObject({ result: { n: 2 } });
      worker.close();
      await serve;
    } finally {
      connection.close(new Error("done"));
      worker.close();
    }
  });

  it("to a Pool fails that request only: the pool and its worker stay", async () => {
    const endpoint = `ipc://${join(dir, "pool.sock")}`;
    const pool = await Pool.start({ size: 0, listen: [endpoint] });
    const rogue = new Dealer({ linger: 0 });
    try {
      rogue.connect(endpoint);
      await rogue.send(encodeMessage({ id: null, ctl: "ready", info: HELLO, token: null }));
      await pool.waitForWorkers(1, 10_000);
      const serve = (async () => {
        let n = 0;
        for await (const frames of rogue) {
          const { header } = decodeMessage(frames);
          if (header.ctl === "heartbeat") await rogue.send(encodeMessage({ id: null, ctl: "heartbeat" }));
          if (header.ctl) continue;
          const reply = n++ === 0 ? { id: header.id, ok: false } : { id: header.id, ok: true, result: { n } };
          await rogue.send(encodeMessage(reply));
        }
      })().catch(() => {});
      await expect(pool.call("hello", {}, [], { timeoutMs: 10_000, idempotent: false })).rejects.toThrow(WireError);
      await expect(pool.call("hello", {}, [], { timeoutMs: 10_000 })).resolves.toMatchObject({ result: { n: 2 } });
      expect(pool.workers).toHaveLength(1);
      rogue.close();
      await serve;
    } finally {
      rogue.close();
      await pool.close(true);
    }
  });

  it("a worker of another wire version does not join a Pool, and is told to go", async () => {
    const endpoint = `ipc://${join(dir, "pool-v2.sock")}`;
    const pool = await Pool.start({ size: 0, listen: [endpoint] });
    const stranger = new Dealer({ linger: 0, receiveTimeout: 10_000 });
    try {
      stranger.connect(endpoint);
      await stranger.send(encodeMessage({ id: null, ctl: "ready", info: { ...HELLO, protocol: 2 }, token: null }));
      const [head] = await stranger.receive();
      expect(JSON.parse(head!.toString())).toMatchObject({ ctl: "disconnect" });
      expect(pool.workers).toHaveLength(0);
    } finally {
      stranger.close();
      await pool.close(true);
    }
  });
});

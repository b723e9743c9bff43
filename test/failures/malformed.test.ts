import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Dealer } from "zeromq";
import { Bridge, Pool, WireError, WorkerStartError } from "../../src/index.js";
import { decodeMessage, encodeMessage } from "../../src/wire/codec.js";
import { HEADER, HEARTBEAT_ROUTING_ID_SUFFIX, WIRE_VERSION } from "../../src/wire/protocol.js";

/**
 * A peer that answers `ok: false` with no `error` (issue 10, break 2): that request fails with a
 * WireError, and everything else goes on. The misbehaving peer is a real ZeroMQ socket.
 */
const dir = mkdtempSync(join(tmpdir(), "tfbridge-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HELLO = { protocol: WIRE_VERSION, pid: 0, python: "", numpy: "", tensorflow: "", keras: "", ops: [] };

/**
 * Stands in for the worker (it ignores the arguments it is started with); frames as src/link/framing.ts,
 * headers as wire format v2 lays them out (docs/wire.md#header), written by hand.
 */
const FAKE_LOCAL_WORKER = `#!/usr/bin/env python3
import json, os, socket, struct, sys
link = socket.socket(fileno=3)
FIXED = struct.Struct("<BBHHHQQI")
def send(kind, code, request_id, fields):
    body = json.dumps(fields).encode() if fields else b""
    head = FIXED.pack(${WIRE_VERSION}, kind, code, 0 if request_id is None else ${HEADER.flags.id}, 0, request_id or 0, 0, len(body)) + body
    link.sendall(struct.pack("<IBI", 5 + 17 + len(head), 0, 1) + struct.pack("<BQQ", 0, 0, len(head)) + head)
def read(n):
    data = b""
    while len(data) < n:
        chunk = link.recv(n - len(data))
        if not chunk:
            sys.exit(0)
        data += chunk
    return data
send(3, ${HEADER.controls.indexOf("ready")}, None, {"info": ${JSON.stringify(HELLO)}, "token": os.environ.get("TFBRIDGE_WORKER_TOKEN")})
n = 0
while True:
    (length,) = struct.unpack("<I", read(4))
    body = read(length)
    kind, count = body[0], struct.unpack_from("<I", body, 1)[0]
    if kind != 0:
        continue
    head = body[5 + 17 * count:]
    if head[1] == 3:  # a control message
        continue
    request_id = FIXED.unpack_from(head)[5]
    n += 1
    if n == 1:
        send(2, 0, request_id, None)  # ok: false with no error object
    else:
        send(1, 0, request_id, {"n": n})
`;

/** A worker of the release before wire format v2: its \`ready\` is a JSON header, as v1's were. */
const V1_LOCAL_WORKER = `#!/usr/bin/env python3
import json, os, socket, struct, time
link = socket.socket(fileno=3)
body = json.dumps({"v": 1, "id": None, "ctl": "ready", "info": ${JSON.stringify({ ...HELLO, protocol: 1 })}, "token": os.environ.get("TFBRIDGE_WORKER_TOKEN"), "arrays": []}).encode()
link.sendall(struct.pack("<IBI", 5 + 17 + len(body), 0, 1) + struct.pack("<BQQ", 0, 0, len(body)) + body)
time.sleep(60)
`;

describe("a malformed reply", () => {
  it("from a Bridge's worker on the local link fails that request only", async () => {
    // A real process speaking the local link's real framing on fd 3: ready, then `ok: false` with no error.
    const fake = join(dir, "fake-worker.py");
    writeFileSync(fake, FAKE_LOCAL_WORKER, { mode: 0o700 });
    const bridge = await Bridge.start({ python: fake, link: "local", startTimeoutMs: 10_000 });
    try {
      await expect(bridge.call("hello", {}, [], { timeoutMs: 10_000 })).rejects.toThrow(WireError);
      await expect(bridge.call("hello", {}, [], { timeoutMs: 10_000 })).resolves.toMatchObject({ result: { n: 2 } });
    } finally {
      await bridge.close();
    }
  });

  it("a v1 worker (a JSON header) fails a Bridge's start at once with an error naming the version, not a timeout", async () => {
    const fake = join(dir, "v1-worker.py");
    writeFileSync(fake, V1_LOCAL_WORKER, { mode: 0o700 });
    // A start timeout far past the test's own: the refusal must come from the ready message, not the clock.
    const error = await Bridge.start({ python: fake, link: "local", startTimeoutMs: 600_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerStartError);
    expect((error as Error).message).toMatch(/wire format v1 \(a JSON header\) arrived.*this side speaks v2/);
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

  it("whose id is readable but whose JSON is not fails that request at once, not at its timeout (issue 23)", async () => {
    const endpoint = `ipc://${join(dir, "pool-garbled.sock")}`;
    const pool = await Pool.start({ size: 0, listen: [endpoint] });
    const rogue = new Dealer({ linger: 0 });
    try {
      rogue.connect(endpoint);
      await rogue.send(encodeMessage({ id: null, ctl: "ready", info: HELLO, token: null }));
      await pool.waitForWorkers(1, 10_000);
      const serve = (async () => {
        for await (const frames of rogue) {
          const { header } = decodeMessage(frames);
          if (header.ctl === "heartbeat") await rogue.send(encodeMessage({ id: null, ctl: "heartbeat" }));
          if (header.ctl) continue;
          const [head] = encodeMessage({ id: header.id, ok: true, result: { n: 1 } });
          head![HEADER.fixedBytes] = 0xff; // the JSON's first byte: no longer JSON
          await rogue.send([head!]);
        }
      })().catch(() => {});
      // A timeout far past the test's own: the failure must come from the reply, not the clock.
      const error = await pool.call("hello", {}, [], { timeoutMs: 600_000, idempotent: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WireError);
      expect((error as Error).message).toMatch(/hello: the worker's reply could not be read/);
      expect(pool.workers).toHaveLength(1);
      rogue.close();
      await serve;
    } finally {
      rogue.close();
      await pool.close(true);
    }
  });

  it("a heartbeat connection (a worker's routing id + ff) can say nothing but heartbeats: its ready or reply is dropped", async () => {
    const endpoint = `ipc://${join(dir, "pool-heartbeat-id.sock")}`;
    const pool = await Pool.start({ size: 0, listen: [endpoint] });
    const worker = new Dealer({ linger: 0, routingId: "0123456789abcdef" });
    // zeromq.js types routingId as a string; its setter takes the bytes of a Buffer as they are.
    const impostor = new Dealer({ linger: 0, routingId: Buffer.concat([Buffer.from("fedcba9876543210"), HEARTBEAT_ROUTING_ID_SUFFIX]) as unknown as string });
    try {
      worker.connect(endpoint);
      impostor.connect(endpoint);
      // Before, a ready from such an id joined the pool as the worker whose id it extends.
      await impostor.send(encodeMessage({ id: null, ctl: "ready", info: HELLO, token: null }));
      await worker.send(encodeMessage({ id: null, ctl: "ready", info: HELLO, token: null }));
      await pool.waitForWorkers(1, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(pool.workers.map((w) => w.id)).toEqual([Buffer.from("0123456789abcdef").toString("hex")]);
    } finally {
      worker.close();
      impostor.close();
      await pool.close(true);
    }
  });

  it("a worker of another wire version does not join a Pool, and is told to go", async () => {
    const endpoint = `ipc://${join(dir, "pool-v3.sock")}`;
    const pool = await Pool.start({ size: 0, listen: [endpoint] });
    const stranger = new Dealer({ linger: 0, receiveTimeout: 10_000 });
    try {
      stranger.connect(endpoint);
      await stranger.send(encodeMessage({ id: null, ctl: "ready", info: { ...HELLO, protocol: 3 }, token: null }));
      const [head] = await stranger.receive();
      expect(decodeMessage([head!]).header).toMatchObject({ ctl: "disconnect" });
      expect(pool.workers).toHaveLength(0);
    } finally {
      stranger.close();
      await pool.close(true);
    }
  });
});

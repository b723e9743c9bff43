import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { type Socket, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArrayReleasedError, Bridge, type NDArray, Pool, RequestTimeoutError, SharedArray, WireError, WorkerDiedError, isSharedArray, ndarray } from "../../src/index.js";
import { LocalLink } from "../../src/link/local-link.js";
import { Region } from "../../src/link/regions.js";
import { bytesOf } from "../helpers.js";

const MiB = 1024 * 1024;
const shmLeft = () => readdirSync("/dev/shm").filter((n) => n.startsWith(`tfbridge-shm-${process.pid}-`));
const floats = (n: number, seed: number) => ndarray("float32", [n], Float32Array.from({ length: n }, (_, i) => i * seed));
const same = (a: NDArray, b: NDArray) => bytesOf(a.data).equals(bytesOf(b.data));

/** The local link on small (1 MiB) regions, so that filling them takes a few arrays. */
describe("the local link", () => {
  let bridge: Bridge;
  beforeAll(async () => {
    bridge = await Bridge.start({ link: "local", linkRegionBytes: MiB });
  });
  afterAll(async () => {
    await bridge.close();
  });

  it("is a Bridge's default, leaves no named shared memory once started, and listens nowhere", async () => {
    const plain = await Bridge.start();
    try {
      expect(plain.link).toBe("local");
      expect(shmLeft()).toEqual([]); // both regions were unlinked as soon as the worker mapped them
      // No socket file to connect to: the link is a socket pair the worker inherited.
      const ours = readdirSync(tmpdir()).filter((n) => n.startsWith(`tfbridge-${process.pid}-`));
      expect(ours.length).toBeGreaterThan(0);
      for (const dir of ours) expect(readdirSync(join(tmpdir(), dir))).not.toContain("worker.sock");
    } finally {
      await plain.close();
    }
  });

  it("returns large arrays as views over shared memory; release empties them", async () => {
    const sent = floats(64 * 1024, 3);
    const [back] = await bridge.echo([sent]);
    expect(isSharedArray(back!)).toBe(true);
    expect(same(back!, sent)).toBe(true);
    const view = back!.data;
    expect({ ...back! }.data).toBe(view); // like any NDArray: spread and toEqual see its data
    expect(back).toEqual({ dtype: "float32", shape: [64 * 1024], data: sent.data });
    (back as SharedArray).release();
    expect(view.length).toBe(0); // detached: a stale view reads nothing, not a later reply's bytes
    expect(() => back!.data).toThrow(ArrayReleasedError);
  });

  it("reuses released blocks; unreleased ones fill the region and later replies travel inline instead", async () => {
    const sent = floats(150_000, 1); // 600 KB: one fits in 1 MiB
    for (let i = 0; i < 5; i++) {
      using back = (await bridge.echo([sent]))[0] as SharedArray;
      expect(isSharedArray(back)).toBe(true);
      expect(same(back, sent)).toBe(true);
    }
    const kept = (await bridge.echo([sent]))[0]!;
    const next = (await bridge.echo([sent]))[0]!;
    expect([isSharedArray(kept), isSharedArray(next)]).toEqual([true, false]);
    expect(same(next, sent)).toBe(true);
    (kept as SharedArray).release();
  });

  it("gives a collected reply's block back (FinalizationRegistry)", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const sent = floats(150_000, 2);
    // In a function of its own, so that no frame of the test still holds the reply when gc() runs.
    const roundTrip = async () => {
      const [back] = await bridge.echo([sent]);
      return [isSharedArray(back!), same(back!, sent)];
    };
    for (let i = 0; i < 5; i++) {
      expect(await roundTrip()).toEqual([true, true]); // the previous one's block came back without a release()
      gc();
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it("alloc refuses a shape with NaN, undefined or a negative size, and later requests keep their own data", async () => {
    for (const shape of [[Number.NaN], [undefined as unknown as number], [-16], [2, 1.5]]) {
      expect(() => bridge.alloc("float32", shape), JSON.stringify(shape)).toThrow(WireError);
    }
    const sent = Array.from({ length: 20 }, (_, i) => floats(2_000, i + 1)); // 8 KB each: in shared memory
    const replies = await Promise.all(sent.map((a) => bridge.echo([a])));
    replies.forEach(([back], i) => {
      expect(same(back!, sent[i]!), `echo ${i}`).toBe(true);
      if (isSharedArray(back!)) back.release();
    });
  });

  it("sends arrays allocated in shared memory, even one shared by requests in flight and released meanwhile", async () => {
    const input = bridge.alloc("float32", [100_000]) as SharedArray<"float32">;
    expect(isSharedArray(input)).toBe(true);
    input.data.forEach((_, i, a) => (a[i] = i));
    const copy = ndarray("float32", [100_000], input.data.slice());
    const replies = [bridge.echo([input]), bridge.echo([input])];
    input.release(); // the worker may still be reading it: its block waits for both replies
    for (const [back] of await Promise.all(replies)) {
      expect(same(back!, copy)).toBe(true);
      (back as SharedArray).release();
    }
  });

  it("makes requests wait when the input region is full, and sends an array larger than it inline", async () => {
    const sent = Array.from({ length: 8 }, (_, i) => floats(100_000, i + 1)); // 400 KB each: two fit
    const replies = await Promise.all(sent.map((a) => bridge.echo([a])));
    replies.forEach(([back], i) => {
      expect(same(back!, sent[i]!)).toBe(true);
      if (isSharedArray(back!)) back.release();
    });
    const huge = floats(600_000, 5); // 2.4 MB
    const [back] = await bridge.echo([huge]);
    expect(same(back!, huge)).toBe(true);
  });

  it("sends many requests made in one tick together, small inline arrays and a large one among them, each answered", async () => {
    const small = Array.from({ length: 300 }, (_, i) => floats(1 + (i % 900), i + 1)); // under 4 KB: inline
    const huge = floats(400_000, 7); // 1.6 MB: larger than the region, inline too
    const replies = await Promise.all([...small.slice(0, 150), huge, ...small.slice(150)].map((a) => bridge.echo([a])));
    [...small.slice(0, 150), huge, ...small.slice(150)].forEach((a, i) => expect(same(replies[i]![0]!, a)).toBe(true));
  });

  it("leaves nothing in /dev/shm when its worker is SIGKILLed", async () => {
    const doomed = await Bridge.start({ link: "local" });
    process.kill(doomed.pid!, "SIGKILL");
    await expect(doomed.call("sleep", { seconds: 5 }, [], { timeoutMs: 30_000 })).rejects.toThrow(WorkerDiedError);
    await doomed.close();
    expect(shmLeft()).toEqual([]);
    expect(existsSync("/dev/shm")).toBe(true);
  });
});

describe("a request that gives up while it waits for room in the input region", () => {
  it("is never sent: the worker does not run it once room comes (issue 23 #5)", async () => {
    await using pool = await Pool.start({ size: 1, link: "local", linkRegionBytes: MiB, perWorkerInFlight: 3 });
    const busy = pool.call("sleep", { seconds: 1.5 }); // holds the worker, so the echo below holds its block
    const holding = pool.call("echo", {}, [floats(180_000, 1)]); // 720 KB of the 1 MiB region until its reply
    const before = pool.stats.bytesReceived;
    // No room until `holding` is answered: this one waits on the link, and gives up there.
    const abandoned = pool.call("echo", {}, [floats(180_000, 2)], { timeoutMs: 300 });
    await expect(abandoned).rejects.toThrow(RequestTimeoutError);
    await busy;
    const [back] = (await holding).arrays;
    expect(same(back!, floats(180_000, 1))).toBe(true);
    await pool.call("echo", {}, [floats(4, 3)]); // the worker has answered everything sent before this
    // Only `holding`'s 720 KB came back; the abandoned echo would bring 720 KB more.
    expect(pool.stats.bytesReceived - before).toBeLessThan(1.5 * 720_000);
    expect(pool.stats.bytesReceived - before).toBeGreaterThan(720_000);
  });
});

describe("a worker that announces a 4 GiB message on the local link (issue 23 #4)", () => {
  it("breaks the link at once with a WireError instead of buffering it while every chunk counts as life", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfbridge-prefix-"));
    const server = createServer();
    await new Promise<void>((listening) => server.listen(join(dir, "s"), listening));
    const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
    const ours = connect(join(dir, "s"));
    const worker = await accepted;
    const link = new LocalLink(ours, Region.create(dir, MiB), Region.create(dir, MiB), MiB);
    try {
      let chunks = 0;
      const ended = new Promise<Error>((resolve) => link.start(() => {}, resolve, () => chunks++));
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32LE(0xffff_ffff, 0);
      worker.write(Buffer.concat([prefix, Buffer.alloc(64 * 1024)]));
      const error = await ended;
      expect(error).toBeInstanceOf(WireError);
      expect(error.message).toMatch(/4294967295 bytes announced/);
      expect(chunks).toBe(0); // none of it counted as the worker being alive
      expect(link.closed).toBe(true);
    } finally {
      worker.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curveKeyPair } from "zeromq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_MAIN } from "../cli/run.js";
import { Namespace, PEER_ADDRESS, POOL_ADDRESS, VETH_PAIR } from "../netns.js";

/**
 * Issue 23 #7: a remote worker across a 100 Mbit/s link (the veth pair rate-limited both ways), sent
 * echoes of 64 MiB, about 5.4 s on the wire each way. Heartbeats queued behind such a message on its
 * connection went unheard for longer than the 5 s liveness: the pool buried a healthy worker ("missed
 * 10 heartbeats"), retried, and buried it again (both echoes failed so, before the fix).
 */
const root = new URL("../..", import.meta.url).pathname;
const tsx = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), "tfbridge-slow-link-"));
const RATE = "100mbit";
let poolSide: Namespace;
let workerSide: Namespace;
let worker: ChildProcess;

beforeAll(async () => {
  poolSide = await Namespace.start(["unshare", "--user", "--map-root-user", "--net"], ["net"], VETH_PAIR);
  workerSide = await Namespace.start(poolSide.command(["unshare", "--net"]), ["net"], ["ip link set lo up"]);
  await poolSide.run(["ip", "link", "set", "tfb1", "netns", String(workerSide.pid)]);
  await workerSide.run(["sh", "-c", `ip addr add ${PEER_ADDRESS}/24 dev tfb1 && ip link set tfb1 up`]);
  // A token bucket (netem is not in every kernel), with a queue of a second: slow, not lossy.
  const shape = (dev: string) => ["tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", RATE, "burst", "256kb", "latency", "1s"];
  await poolSide.run(shape("tfb0"));
  await workerSide.run(shape("tfb1"));
});
afterAll(() => {
  worker?.kill("SIGKILL");
  workerSide?.close();
  poolSide?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a remote worker behind a slow link, sent messages that take seconds on the wire", () => {
  it("stays one member, never buried or retried, and every echo is answered", { timeout: 240_000 }, async () => {
    const pool = curveKeyPair();
    const workerKeys = curveKeyPair();
    writeFileSync(join(dir, "keys.json"), JSON.stringify({ pool, worker: workerKeys }), { mode: 0o600 });
    const endpoint = `tcp://${POOL_ADDRESS}:5557`;
    const poolRun = poolSide.spawn([process.execPath, "--import", tsx, join(root, "test/pool/slow-link-pool.ts"), endpoint, join(dir, "keys.json"), "64", "2"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    poolRun.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const finished = new Promise<number | null>((resolve) => poolRun.on("exit", resolve));
    while (!out.includes("listening")) {
      if (poolRun.exitCode !== null) throw new Error(`the pool's process exited with ${poolRun.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    worker = workerSide.spawn([process.execPath, CLI_MAIN, "worker", "--connect", endpoint], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, TFBRIDGE_CURVE_PUBLIC_KEY: workerKeys.publicKey, TFBRIDGE_CURVE_SECRET_KEY: workerKeys.secretKey, TFBRIDGE_CURVE_SERVER_KEY: pool.publicKey },
    });
    expect(await finished).toBe(0);
    const result = JSON.parse(out.slice(out.indexOf("{"))) as { outcomes: string[]; memberIds: string[]; stats: { heartbeatMisses: number; retried: number; replaced: number } };
    expect(result.outcomes.filter((o) => !o.startsWith("ok true"))).toEqual([]);
    expect(result.memberIds).toHaveLength(1);
    expect(result.stats).toMatchObject({ retried: 0, replaced: 0 });
  });
});

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Dealer, curveKeyPair } from "zeromq";
import { InsecureConfigError, Pool, layers, ndarray, sequential } from "../../src/index.js";
import { decodeMessage, encodeMessage } from "../../src/wire/codec.js";
import { CLI_MAIN, tfbridge } from "../cli/run.js";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL"); // its Python worker follows (--exit-with-stdin)
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `tfbridge worker --connect …` as a separate process, keys in its environment. */
function remoteWorker(endpoint: string, keys: { publicKey: string; secretKey: string }, serverKey: string): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [CLI_MAIN, "worker", "--connect", endpoint], {
    env: { ...process.env, TFBRIDGE_CURVE_PUBLIC_KEY: keys.publicKey, TFBRIDGE_CURVE_SECRET_KEY: keys.secretKey, TFBRIDGE_CURVE_SERVER_KEY: serverKey },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  children.push(child);
  return { child, stderr: () => stderr };
}

/** `tfbridge worker --connect …` on loopback (no keys), started as a shell starts a job: a process group of its own. */
function loopbackWorker(endpoint: string): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [CLI_MAIN, "worker", "--connect", endpoint], { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  children.push(child);
  return { child, stderr: () => stderr };
}

/** The Python worker a `tfbridge worker` wrapper started: its one child. */
function pythonOf(wrapper: ChildProcess): number {
  return Number(readFileSync(`/proc/${wrapper.pid}/task/${wrapper.pid}/children`, "utf8").trim());
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !condition(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
  }
}

describe("remote workers over TCP", () => {
  it("join with CurveZMQ and serve; a worker whose key is not allowed never joins", async () => {
    const server = curveKeyPair();
    const allowed = curveKeyPair();
    const stranger = curveKeyPair();
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const pool = await Pool.start({ size: 0, listen: [endpoint], curve: { ...server, allowedClients: [allowed.publicKey] } });
    try {
      const refused = remoteWorker(endpoint, stranger, server.publicKey);
      remoteWorker(endpoint, allowed, server.publicKey);
      await pool.waitForWorkers(1, 60_000);
      expect(pool.workers.map((w) => w.remote)).toEqual([true]);
      const r = await pool.runLstm({ units: 4, inputShape: [3, 2] }, ndarray("float32", [2, 3, 2], new Float32Array(12).fill(1)));
      expect(r.output.shape).toEqual([2, 4]);
      // The stranger has had time to try: the CURVE handshake (ZAP) keeps refusing it.
      await new Promise((r) => setTimeout(r, 3000));
      expect(pool.workers).toHaveLength(1);
      expect(refused.stderr()).toMatch(/"refused": "tcp:\/\/127\.0\.0\.1:\d+"/); // and it says so
    } finally {
      await pool.close();
    }
  });

  it("a worker stopped by SIGTERM (systemd) or Ctrl-C leaves: its running request is answered, new ones go elsewhere, it ends by the signal", { timeout: 180_000 }, async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const pool = await Pool.start({ size: 0, listen: [endpoint] });
    try {
      const [stopped, interrupted, staying] = [loopbackWorker(endpoint), loopbackWorker(endpoint), loopbackWorker(endpoint)];
      await pool.waitForWorkers(3, 120_000);
      await pool.loadModel({ config: sequential({ inputShape: [2], layers: [layers.dense({ units: 1 })] }), seed: 1 }, { name: "tiny" });
      expect(pool.models()[0]!.workers).toBe(3);
      const memberOf = (w: { child: ChildProcess }) => pool.workers.find((m) => m.info.pid === pythonOf(w.child))!;
      const running = [stopped, interrupted].map((w) => pool.callOn(memberOf(w).id, "sleep", { seconds: 15 }));
      const ended = [stopped, interrupted].map((w) => once(w.child, "exit"));
      await until(() => pool.workers.every((m) => m.inFlight === (m.info.pid === pythonOf(staying.child) ? 0 : 1)), "both sleeps are sent");
      const leaverPids = [pythonOf(stopped.child), pythonOf(interrupted.child)];
      stopped.child.kill("SIGTERM"); // the wrapper, as systemd's KillMode=mixed does
      process.kill(-interrupted.child.pid!, "SIGINT"); // the whole job, as a terminal's Ctrl-C does
      await until(() => pool.workers.filter((m) => m.leaving).length === 2, "both say they are leaving");
      await expect(pool.callOn(memberOf(stopped).id, "hello")).rejects.toThrow(/is leaving/);
      expect(pool.capacity).toBe(2); // the staying worker's perWorkerInFlight, 2 by default
      expect(pool.models()[0]!.workers).toBe(1); // what readiness and model status count
      const hellos = await Promise.all([1, 2, 3].map(() => pool.call("hello")));
      expect(hellos.map((h) => h.result.pid)).toEqual(Array(3).fill(pythonOf(staying.child)));
      for (const r of await Promise.all(running)) expect(r.result).toEqual({ slept: 15 });
      expect(await Promise.all(ended)).toEqual([
        [null, "SIGTERM"],
        [null, "SIGINT"],
      ]);
      await until(() => pool.workers.length === 1, "the leavers are gone");
      expect(pool.workers[0]!.info.pid).toBe(pythonOf(staying.child));
      for (const [w, pid] of [[stopped, leaverPids[0]], [interrupted, leaverPids[1]]] as const) {
        expect(w.stderr()).toContain('"leaving"');
        expect(w.stderr()).not.toContain("Traceback");
        expect(() => process.kill(pid!, 0)).toThrow(); // its Python is gone too
      }
    } finally {
      await pool.close();
    }
  });

  it("a `leaving` from a worker the pool does not count (it counted it gone) is answered with disconnect", async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const pool = await Pool.start({ size: 0, listen: [endpoint] });
    const stranger = new Dealer({ linger: 0, receiveTimeout: 10_000 });
    try {
      stranger.connect(endpoint);
      await stranger.send(encodeMessage({ id: null, ctl: "leaving" }));
      const [head] = await stranger.receive();
      expect(decodeMessage([head!]).header).toMatchObject({ ctl: "disconnect" });
    } finally {
      stranger.close();
      await pool.close(true);
    }
  });

  it("a pool refuses to listen off loopback without CurveZMQ", async () => {
    await expect(Pool.start({ size: 0, listen: ["tcp://0.0.0.0:5555"] })).rejects.toThrow(InsecureConfigError);
    await expect(Pool.start({ size: 0, listen: ["tcp://0.0.0.0:5555"] })).rejects.toThrow(/without CurveZMQ/);
  });

  it("a worker refuses to connect off loopback without keys", async () => {
    const { code, stderr } = await tfbridge("worker", "--connect", "tcp://192.0.2.1:5555");
    expect(code).toBe(2);
    expect(stderr).toMatch(/not loopback: CurveZMQ keys are required/);
  });
});

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { curveKeyPair } from "zeromq";
import { InsecureConfigError, Pool, ndarray } from "../../src/index.js";
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

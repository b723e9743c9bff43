import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readModelSource } from "../../src/serving/source.js";
import { Bridge, MessageTooLargeError, ModelError, ModelLoadError, ModelNotFoundError, Pool, PythonError, layers, lstmModel, ndarray, sequential } from "../../src/index.js";

const root = new URL("../..", import.meta.url).pathname;
const CAP = 2 * 1024 * 1024;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// A pool of one local worker, and one remote worker that may write files of 64 KiB at most
// (`ulimit -f`): it starts and serves, but cannot store a bigger model's files. A real fault, as a
// full disk or a quota on one host would be.
let pool: Pool;
let remote: ChildProcess;
let folder: string;
const scratch = mkdtempSync(join(tmpdir(), "tfbridge-load-faults-"));
beforeAll(async () => {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  pool = await Pool.start({ size: 1, listen: [endpoint], maxMessageBytes: CAP });
  // Exported before the limited worker joins: its variables are about 270 KB.
  const { config, resolved } = lstmModel({ units: 128, inputShape: [5, 2], seed: 3 });
  await using bridge = await Bridge.start();
  await using exported = await bridge.model(config, { seed: resolved.seed });
  folder = await exported.exportSavedModel(join(scratch, "lstm"));
  remote = spawn("bash", ["-c", 'ulimit -f 64 && exec "$@"', "bash", join(root, ".venv/bin/python"), "-m", "tfbridge_worker", "--connect", endpoint, "--exit-with-stdin", "--temp-dir", join(scratch, "tmp")], {
    env: { ...process.env, PYTHONPATH: join(root, "python"), TFBRIDGE_MAX_MESSAGE_BYTES: String(CAP) },
    stdio: ["pipe", "ignore", "ignore"],
  });
  await pool.waitForWorkers(2, 120_000);
}, 180_000);
afterAll(async () => {
  remote?.kill("SIGKILL");
  await pool?.close();
  rmSync(scratch, { recursive: true, force: true });
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe("a model that fails to load on one worker", () => {
  it("fails the load with that worker's typed error and traceback, and no worker serves it", async () => {
    const error = await pool.loadModel(folder, { name: "lstm" }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    const e = error as ModelLoadError;
    expect(e.worker.pid).toBe(pool.workers.find((w) => w.remote)!.info.pid);
    expect(e.cause).toBeInstanceOf(PythonError);
    expect((e.cause as PythonError).pythonType).toBe("OSError");
    expect(e.message).toMatch(/File too large/);
    expect(e.traceback.some((f) => f.file.endsWith("served.py"))).toBe(true);
    expect(pool.models()).toEqual([]);
    await expect(pool.predict("lstm", ndarray("float32", [1, 5, 2], new Float32Array(10)))).rejects.toThrow(ModelNotFoundError);
    // The worker that had loaded it dropped it again.
    const local = pool.workers.find((w) => !w.remote)!;
    const { key } = await readModelSource(folder);
    await expect(pool.callOn(local.id, "serve.predict", { key }, [ndarray("float32", [1, 5, 2], new Float32Array(10))])).rejects.toThrow(ModelError);
  });
});

describe("the message cap", () => {
  it("a batch whose total would pass the cap is split into runs under it; one request over it fails typed", async () => {
    const wide = sequential({ name: "wide", inputShape: [65536], layers: [layers.dense({ units: 2 })] });
    await pool.loadModel({ config: wide, seed: 1 }, { name: "wide", batching: { maxBatchSize: 64, maxDelayMicros: 50_000 } });
    const input = (i: number) => ndarray("float32", [1, 65536], new Float32Array(65536).fill(i / 10));
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => pool.predict("wide", input(i)))); // 3 MiB in all
    expect(results.map((r) => r.outputs.dense!.shape)).toEqual(Array(12).fill([1, 2]));
    const text = await pool.metrics();
    const runs = Number(/^tfbridge_batch_size_count\{model="wide",version="1"\} (\d+)$/m.exec(text)?.[1]);
    expect(runs).toBeGreaterThanOrEqual(2);
    await expect(pool.predict("wide", ndarray("float32", [9, 65536], new Float32Array(9 * 65536)))).rejects.toThrow(MessageTooLargeError);
  });
});

describe("closing", () => {
  it("close() answers the requests still waiting in a batch before it stops the workers", async () => {
    const tiny = sequential({ name: "tiny", inputShape: [3], layers: [layers.dense({ units: 2 })] });
    await pool.loadModel({ config: tiny, seed: 1 }, { name: "slow-batches", batching: { maxBatchSize: 64, maxDelayMicros: 60_000_000 } });
    const waiting = [1, 2, 3].map((i) => pool.predict("slow-batches", ndarray("float32", [1, 3], new Float32Array(3).fill(i))));
    await pool.close();
    const outcomes = await Promise.allSettled(waiting);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
  });
});

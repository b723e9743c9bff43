/**
 * The serving benchmark: requests/s and p50/p99 latency at concurrency 1, 16 and 256, one instance per
 * request, for the seed's 64-unit LSTM and the stacked-LSTM reference model, across the ways a Node
 * service can serve a Keras model, all on this machine in one run. The HTTP contenders (`tfbridge
 * serve`, FastAPI, and Node's http alone as the floor) are loaded by wrk; the in-process ones by
 * closedLoop.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KerasModelConfig, type NDArray, Pool, layers, sequential } from "../src/index.js";
import { REFERENCE_MODELS } from "../src/entry/parity.js";
import { seededInput } from "../src/random.js";
import { seededModelInputs } from "../src/parity/model-parity.js";
import { type BatchExactness, measureBatchExactness } from "../src/serving/exactness.js";
import { loadTfjsSavedModel } from "../src/tfjs/savedmodel.js";
import { defaultPython } from "../src/worker/process.js";
import { type LoadResult, closedLoop } from "./load.js";
import type { PythoniaPeer } from "./peers.js";
import { progress } from "./stats.js";
import { wrkLoad } from "./wrk.js";

const root = new URL("..", import.meta.url).pathname;
export const CONCURRENCY = [1, 16, 256] as const;
const WORKERS = 2;
/** Batching as the Pool, the example service and the goals use it. */
const BATCHING = { maxBatchSize: 128, maxDelayMicros: 0 };

export interface ServingRow {
  contender: string;
  model: string;
  results: LoadResult[];
}

export interface ServingSection {
  workers: number;
  durationMs: number;
  models: { name: string; instance: number[] }[];
  batching: typeof BATCHING;
  rows: ServingRow[];
  /** Merged rows against rows run alone, per reference model (8 rows, seeded weights and inputs). */
  batchExactness: Record<string, BatchExactness>;
}

const MODELS: Record<string, () => KerasModelConfig> = {
  lstm: () => sequential({ name: "lstm", inputShape: [10, 1], layers: [layers.lstm({ units: 64 })] }),
  "stacked-lstm": REFERENCE_MODELS["stacked-lstm"]!,
};

/** Nested lists of one NDArray, for JSON bodies and pythonia. */
function nested(a: NDArray): unknown[] {
  const data = Array.from(a.data as Float32Array);
  const build = (offset: number, depth: number): unknown => {
    if (depth === a.shape.length) return data[offset];
    const stride = a.shape.slice(depth + 1).reduce((n, d) => n * d, 1);
    return Array.from({ length: a.shape[depth]! }, (_, i) => build(offset + i * stride, depth + 1));
  };
  return build(0, 0) as unknown[];
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 180_000, method = "GET"): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited with ${child.exitCode}`);
    if (await fetch(url, { method, body: method === "POST" ? "{}" : undefined }).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url}: not ready within ${timeoutMs} ms`);
}

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** SIGTERM, then the exit; uvicorn's workers and the service's pool go with their parent. */
function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

export async function serving(pythonia: PythoniaPeer, quick: boolean): Promise<ServingSection> {
  const durationMs = quick ? 800 : 3000;
  const warmupMs = quick ? 200 : 500;
  const dir = mkdtempSync(join(tmpdir(), "tfbridge-bench-serving-"));
  const rows: ServingRow[] = [];
  let instances: Record<string, { x: NDArray; body: string; lists: unknown[] }> = {};
  /** One row: `load` at each concurrency, from closedLoop (in-process) or wrk (HTTP). */
  const measure = async (contender: string, model: string, load: (concurrency: number) => Promise<LoadResult>) => {
    const results: LoadResult[] = [];
    for (const c of CONCURRENCY) {
      const r = await load(c);
      progress(`serving: ${contender}, ${model}, concurrency ${c}: ${r.requestsPerSecond} requests/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms${r.errors ? `, ${r.errors} errors` : ""}`);
      results.push(r);
    }
    rows.push({ contender, model, results });
  };
  const inProcess = (send: () => Promise<unknown>) => (c: number) => closedLoop(send, c, durationMs, warmupMs);
  const overHttp = (origins: string[], model: string) => (c: number) => wrkLoad(origins, `/v1/models/${model}:predict`, instances[model]!.body, c, durationMs, warmupMs);
  try {
    // Every contender loads the same files: a .keras file and its SavedModel export.
    writeFileSync(join(dir, "models.json"), JSON.stringify(Object.fromEntries(Object.entries(MODELS).map(([n, make]) => [n, { config: make(), seed: 0 }]))));
    execFileSync(defaultPython(), [join(root, "bench/serving_models.py"), join(dir, "models.json"), dir], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" } });
    instances = Object.fromEntries(Object.keys(MODELS).map((name, k) => {
      const shape = name === "lstm" ? [1, 10, 1] : [1, 12, 4];
      const x = seededInput(shape, 11 + k);
      return [name, { x, body: JSON.stringify({ instances: nested(x) }), lists: nested(x) }];
    }));

    const pool = await Pool.start({ size: WORKERS, maxQueue: 100_000 });
    const batchExactness: Record<string, BatchExactness> = {};
    try {
      for (const name of Object.keys(MODELS)) {
        await pool.loadModel(join(dir, `${name}.keras`), { name });
        await pool.loadModel(join(dir, `${name}.keras`), { name: `${name}-batched`, batching: BATCHING });
      }
      for (const name of Object.keys(MODELS)) {
        const { x } = instances[name]!;
        await measure(`tfbridge Pool(${WORKERS}), batching off`, name, inProcess(() => pool.predict(name, x)));
        await measure(`tfbridge Pool(${WORKERS}), batching on`, name, inProcess(() => pool.predict(`${name}-batched`, x)));
      }
      for (const [name, make] of Object.entries(REFERENCE_MODELS)) {
        const config = make();
        const served = await pool.loadModel({ config, seed: 3 }, { name: `exactness-${name}` });
        batchExactness[name] = await measureBatchExactness((xs, o) => served.predict(xs, o), seededModelInputs(config, served.inputs, 8, 5));
        await served.unload();
      }
    } finally {
      await pool.close();
    }

    const servePort = await freePort();
    writeFileSync(join(dir, "serve.json"), JSON.stringify({
      port: servePort,
      pool: { size: WORKERS, maxQueue: 100_000, whenFull: "wait" },
      models: Object.keys(MODELS).map((name) => ({ name, path: join(dir, `${name}.keras`), batching: BATCHING })),
    }));
    const serve = spawn(process.execPath, [join(root, "dist/cli/main.js"), "serve", "--config", join(dir, "serve.json")], { stdio: ["ignore", "ignore", "inherit"] });
    const answers: Record<string, string> = {};
    try {
      const origin = `http://127.0.0.1:${servePort}`;
      await waitForHttp(`${origin}/readyz`, serve);
      for (const name of Object.keys(MODELS)) {
        answers[name] = await (await fetch(`${origin}/v1/models/${name}:predict`, { method: "POST", body: instances[name]!.body })).text();
        await measure(`tfbridge serve over HTTP (Pool(${WORKERS}), batching on)`, name, overHttp([origin], name));
      }
    } finally {
      await stop(serve);
    }

    // Node's http alone, answering each model's real answer bytes: what any Node service pays here.
    for (const name of Object.keys(MODELS)) {
      const port = await freePort();
      writeFileSync(join(dir, `${name}-answer.json`), answers[name]!);
      const floor = spawn(process.execPath, ["--import", "tsx", join(root, "bench/http-floor.ts"), String(port), join(dir, `${name}-answer.json`)], { stdio: ["ignore", "ignore", "inherit"] });
      try {
        await waitForHttp(`http://127.0.0.1:${port}/ready`, floor, 30_000, "POST");
        await measure("Node http alone (parses the body, fixed answer): the floor", name, overHttp([`http://127.0.0.1:${port}`], name));
      } finally {
        await stop(floor);
      }
    }

    // WORKERS single-process uvicorns, each with its own wrk: `uvicorn --workers N` would be the usual
    // way, but its pre-bound listener leaves Nagle on for keep-alive connections (uvicorn issue #3149,
    // open), which adds ~40 ms to every request here and would not be a fair test.
    const ports = await Promise.all(Array.from({ length: WORKERS }, () => freePort()));
    const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2", TFBRIDGE_BENCH_MODELS: JSON.stringify(Object.fromEntries(Object.keys(MODELS).map((n) => [n, join(dir, `${n}.keras`)]))) };
    const uvicorns = ports.map((port) =>
      spawn(join(root, ".venv-bench/bin/python"), ["-m", "uvicorn", "bench.serving_fastapi:app", "--host", "127.0.0.1", "--port", String(port), "--log-level", "warning"], { cwd: root, stdio: ["ignore", "ignore", "inherit"], env }),
    );
    try {
      await Promise.all(ports.map((port, i) => waitForHttp(`http://127.0.0.1:${port}/healthz`, uvicorns[i]!)));
      for (const name of Object.keys(MODELS)) await measure(`FastAPI + uvicorn (${WORKERS} processes) over HTTP`, name, overHttp(ports.map((port) => `http://127.0.0.1:${port}`), name));
    } finally {
      await Promise.all(uvicorns.map(stop));
    }

    for (const name of Object.keys(MODELS)) {
      const saved = await loadTfjsSavedModel(join(dir, `${name}-savedmodel`), ["output_0"]);
      await measure("tfjs-node in-process (SavedModel)", name, inProcess(() => saved.run(instances[name]!.x as NDArray<"float32">)));
      saved.dispose();
    }

    for (const name of Object.keys(MODELS)) {
      const predict = await pythonia.kerasModel(join(dir, `${name}.keras`));
      await measure("stock pythonia (Keras predict_on_batch)", name, inProcess(() => predict(instances[name]!.lists)));
    }
    return { workers: WORKERS, durationMs, models: Object.keys(MODELS).map((name) => ({ name, instance: [...instances[name]!.x.shape] })), batching: BATCHING, rows, batchExactness };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A row's result at `concurrency`, or null when that contender was not measured. */
export function at(section: ServingSection, contender: RegExp, model: string, concurrency: number): LoadResult | null {
  return section.rows.find((r) => contender.test(r.contender) && r.model === model)?.results.find((x) => x.concurrency === concurrency) ?? null;
}

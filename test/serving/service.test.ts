import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The example service as its own process, driven over loopback HTTP with Node's fetch (undici).
const main = new URL("../../examples/service/main.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "tfbridge-service-"));
let service: ChildProcess;
let base: string;
let exited: Promise<number | null>;

/** One instance of [10, 1]: a sequence of 10 steps of one feature. */
const instance = (k: number) => Array.from({ length: 10 }, (_, t) => [Math.sin(k + t)]);
const post = (path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" } });
/** A GET of `target` exactly as given, over a plain socket (fetch normalizes its URL, as a hostile client does not); the whole reply. */
const rawGet = (target: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(Number(new URL(base).port), "127.0.0.1", () => socket.end(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString()));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
const health = async () => (await (await fetch(`${base}/healthz`)).json()) as { workers: { pid: number }[] };

beforeAll(async () => {
  const config = {
    port: 0,
    // A short queue that refuses when full, so overload shows as 429.
    pool: { size: 2, maxQueue: 4, whenFull: "reject" },
    // Short, so the SIGTERM test's slow client is cut off soon.
    service: { drainTimeoutMs: 2_000 },
    models: [
      { name: "lstm", lstm: { units: 64, inputShape: [10, 1] }, seed: 0 },
      { name: "lstm-batched", lstm: { units: 64, inputShape: [10, 1] }, seed: 0, batching: { maxBatchSize: 32, maxDelayMicros: 2000 } },
    ],
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  service = spawn(process.execPath, ["--import", "tsx", main, join(dir, "config.json")], { stdio: ["ignore", "pipe", "inherit"] });
  exited = new Promise((resolve) => service.on("exit", (code) => resolve(code)));
  let out = "";
  await new Promise<void>((resolve, reject) => {
    service.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      if (port) base = `http://127.0.0.1:${port}`;
      if (out.includes("model lstm-batched ready")) resolve();
    });
    service.on("exit", (code) => reject(new Error(`the service exited with ${code} before it was ready:\n${out}`)));
  });
}, 180_000);
afterAll(async () => {
  if (service.exitCode === null) service.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("the example service", () => {
  it("is live and ready, and answers TF Serving's row and columnar formats alike", async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await health()).workers).toHaveLength(2);
    const rows = (await (await post("/v1/models/lstm:predict", { instances: [instance(1), instance(2)] })).json()) as { predictions: number[][] };
    const columns = (await (await post("/v1/models/lstm/versions/1:predict", { inputs: [instance(1), instance(2)] })).json()) as { outputs: number[][] };
    const batched = (await (await post("/v1/models/lstm-batched:predict", { instances: [instance(1)] })).json()) as { predictions: number[][] };
    expect(rows.predictions).toHaveLength(2);
    expect(rows.predictions[0]).toHaveLength(64);
    expect(columns.outputs).toEqual(rows.predictions);
    batched.predictions[0]!.forEach((v, i) => expect(Math.abs(v - rows.predictions[0]![i]!)).toBeLessThan(1e-6));
    const status = await (await fetch(`${base}/v1/models/lstm`)).json();
    expect(status).toEqual({ model_version_status: [{ version: "1", state: "AVAILABLE", status: { error_code: "OK", error_message: "" } }] });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^tfbridge_requests_total\{model="lstm",version="1",op="predict"\} 2$/m);
    expect(metrics).toMatch(/^tfbridge_workers 2$/m);
  });

  it("bad requests get 4xx naming what is wrong", async () => {
    const cases: [Promise<Response>, number, RegExp][] = [
      [post("/v1/models/nope:predict", { instances: [instance(0)] }), 404, /"nope".*not served here/],
      // Before its body is read: an unknown model with a body that is not JSON is still a 404.
      [post("/v1/models/nope:predict", "{not json"), 404, /"nope".*not served here/],
      [post("/v1/models/lstm/versions/7:predict", { instances: [instance(0)] }), 404, /version 7/],
      [post("/v1/models/lstm:predict", { instances: [[[1], [2]]] }), 400, /must have shape \[null,10,1\]/],
      [post("/v1/models/lstm:predict", { instances: [[[1], [2, 3]]] }), 400, /ragged/],
      [post("/v1/models/lstm:predict", { instances: [instance(0).map(() => ["x"])] }), 400, /"x" is not a number/],
      [post("/v1/models/lstm:predict", "{not json"), 400, /JSON/],
      [post("/v1/models/lstm:predict", { rows: [] }), 400, /exactly one of `instances`/],
      [post("/v1/models/lstm:predict", { inputs: { wrong: [instance(0)] } }), 400, /no model input named wrong/],
      [fetch(`${base}/v1/models/lstm:predict`), 405, /use POST/],
      [fetch(`${base}/nowhere`), 404, /no route GET \/nowhere/],
      // A priority level in its header (batching.priorityLevels): not a level, or for a version that does not batch.
      [fetch(`${base}/v1/models/lstm-batched:predict`, { method: "POST", body: JSON.stringify({ instances: [instance(0)] }), headers: { "x-tfbridge-priority": "first" } }), 400, /x-tfbridge-priority must be one priority level/],
      [fetch(`${base}/v1/models/lstm-batched:predict`, { method: "POST", body: JSON.stringify({ instances: [instance(0)] }), headers: { "x-tfbridge-priority": "2" } }), 400, /priority must be an integer from 1 to 1/],
      [fetch(`${base}/v1/models/lstm:predict`, { method: "POST", body: JSON.stringify({ instances: [instance(0)] }), headers: { "x-tfbridge-priority": "2" } }), 400, /does not batch: priority levels are a batching option/],
    ];
    const levelOne = await fetch(`${base}/v1/models/lstm-batched:predict`, { method: "POST", body: JSON.stringify({ instances: [instance(0)] }), headers: { "x-tfbridge-priority": "1" } });
    expect(levelOne.status).toBe(200);
    for (const [response, status, message] of cases) {
      const r = await response;
      expect(r.status).toBe(status);
      expect(((await r.json()) as { error: string }).error).toMatch(message);
    }
  });

  it("a request target that is not a URL, or a bad %-escape, is a 400 and the service keeps serving", async () => {
    for (const target of ["http://", "//["]) expect(await rawGet(target), target).toMatch(/^HTTP\/1\.1 400 /);
    const escape = await fetch(`${base}/v1/models/%E0%A4%A`);
    expect(escape.status).toBe(400);
    expect(((await escape.json()) as { error: string }).error).toMatch(/URI malformed/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("targets with a query, dot segments or in absolute form route to what the URL parser resolves them to", async () => {
    // Origin-form targets skip the URL parser (a few percent of a predict's time); the others must not change route.
    const targets = ["/v1/models/lstm/metadata?x=1", "/v1/models/lstm/./metadata", "/v1/models/other/../lstm/metadata", "http://h/v1/models/lstm/metadata"];
    targets.push("/v1\\models\\lstm\\metadata", "/v1/models/other/%2e%2e/lstm/metadata", "/v1/models/lstm/%2E/metadata");
    for (const target of targets) {
      const reply = await rawGet(target);
      expect(reply, target).toMatch(/^HTTP\/1\.1 200 /);
      expect(reply, target).toContain('"signature_def"');
    }
  });

  it("answers with their length stated, not in chunks", async () => {
    const answer = await post("/v1/models/lstm:predict", { instances: [instance(1)] });
    const body = Buffer.from(await answer.arrayBuffer());
    expect(answer.headers.get("content-length")).toBe(String(body.length));
    expect(answer.headers.get("transfer-encoding")).toBeNull();
    expect((await rawGet("/v1/models/nope/metadata")).toLowerCase()).toMatch(/content-length: \d+/);
  });

  it("a 100 MB body is a 413 (read to its end first, so the client gets it, not a reset); JSON nested 1e5 deep is a 400", async () => {
    const big = await post("/v1/models/lstm:predict", `{"instances": [${"0,".repeat(50_000_000)}0]}`);
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toMatch(/over the limit of 16777216/);
    const deep = await post("/v1/models/lstm:predict", `{"instances": ${"[".repeat(100_000)}${"]".repeat(100_000)}}`);
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as { error: string }).error).toMatch(/nested deeper than the input's 3 dimensions/);
    expect((await post("/v1/models/lstm:predict", { instances: [instance(0)] })).status).toBe(200);
  }, 60_000);

  it("overload: a full queue answers 429 with Retry-After; every request is answered", async () => {
    // Both workers paused (SIGSTOP, resumed well within the heartbeat liveness): 2 workers × 2 sent
    // ahead + a queue of 4 take 8 requests; the other 12 are refused at once.
    const pids = (await health()).workers.map((w) => w.pid);
    for (const pid of pids) process.kill(pid, "SIGSTOP");
    const pending = Array.from({ length: 20 }, (_, k) => post("/v1/models/lstm:predict", { instances: [instance(k)] }));
    await new Promise((r) => setTimeout(r, 800)); // the refusals are answered meanwhile
    for (const pid of pids) process.kill(pid, "SIGCONT");
    const responses = await Promise.all(pending);
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(8).fill(200), ...Array(12).fill(429)]);
    const refused = responses.find((r) => r.status === 429)!;
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as { error: string }).error).toMatch(/queue is full \(4 requests waiting\)/);
    await Promise.all(responses.filter((r) => !r.bodyUsed).map((r) => r.body?.cancel()));
  });

  it("a worker SIGKILLed under traffic: each request is answered (retried, or 429/503), and the pool heals", async () => {
    const before = (await health()).workers.map((w) => w.pid);
    let killed = false;
    const statuses: number[] = [];
    // Eight clients, twenty requests each, on the batched model; one worker dies after the first few.
    await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        for (let i = 0; i < 20; i++) {
          const r = await post("/v1/models/lstm-batched:predict", { instances: [instance(c * 100 + i)] });
          statuses.push(r.status);
          await r.body?.cancel();
          if (!killed && statuses.length === 10) {
            killed = true;
            process.kill(before[0]!, "SIGKILL");
          }
        }
      }),
    );
    expect(statuses).toHaveLength(160);
    expect(statuses.every((s) => s === 200 || s === 429 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(100);
    const until = Date.now() + 120_000;
    let after = await health();
    while ((after.workers.length < 2 || after.workers.some((w) => w.pid === before[0])) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      after = await health();
    }
    expect(after.workers).toHaveLength(2);
    expect(after.workers.map((w) => w.pid)).not.toContain(before[0]);
    expect((await post("/v1/models/lstm:predict", { instances: [instance(0)] })).status).toBe(200);
  }, 180_000);

  it("SIGTERM: requests in flight are answered, readiness goes, a slow client is cut off, the process exits 0", async () => {
    // A client that sends half its headers and then nothing: the drain must not wait for it forever.
    const { port } = new URL(base);
    const slow = connect(Number(port), "127.0.0.1", () => slow.write("POST /v1/models/lstm:predict HTTP/1.1\r\nHost: x\r\n"));
    const slowClosed = new Promise<void>((resolve) => slow.on("close", () => resolve()));
    slow.on("error", () => {});
    const inFlight = Array.from({ length: 12 }, (_, k) => post("/v1/models/lstm-batched:predict", { instances: [instance(k)] }).then((r) => r.status, () => "refused"));
    await new Promise((r) => setTimeout(r, 20));
    service.kill("SIGTERM");
    const outcomes = await Promise.all(inFlight);
    // 429: the batched model's callers count against the pool's queue of 4 too.
    expect(outcomes.every((s) => s === 200 || s === 429 || s === 503 || s === "refused"), JSON.stringify(outcomes)).toBe(true);
    expect(outcomes.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(await exited).toBe(0);
    await slowClosed;
    await expect(fetch(`${base}/readyz`)).rejects.toThrow(); // nobody listens any more
  });
});

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_MAIN, tfbridge } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "tfbridge-serve-"));
const model = join(dir, "classifier.keras");
let server: ChildProcess;
let base: string;
let exited: Promise<number | null>;
/** Keras's own predict of the same file on the same rows: what the service must answer. */
let expected: number[][];
const rows = [[0.1, -0.2, 0.3], [1, 2, 3]];
/** /readyz's status asked as soon as the service listens, while its model still loads. */
let readyWhileLoading: Promise<number>;

beforeAll(async () => {
  const script = `import os, json
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, numpy as np
keras.utils.set_random_seed(1)
m = keras.Sequential([keras.Input((3,), name="features"), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2, activation="softmax")])
m.save(${JSON.stringify(model)})
print(json.dumps(m.predict(np.array(${JSON.stringify(rows)}, np.float32), verbose=0).tolist()))`;
  expected = JSON.parse(execFileSync(".venv/bin/python", ["-c", script], { encoding: "utf8" })) as number[][];
  server = spawn(process.execPath, [CLI_MAIN, "serve", "--model", `classifier=${model}`, "--port", "0", "--workers", "1"], { stdio: ["ignore", "pipe", "inherit"] });
  exited = new Promise((resolve) => server.on("exit", (code) => resolve(code)));
  let out = "";
  await new Promise<void>((resolve, reject) => {
    server.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (base === undefined) {
        base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] as string;
        if (base) readyWhileLoading = fetch(`${base}/readyz`).then((r) => r.status);
      }
      if (out.includes("model classifier ready")) resolve();
    });
    server.on("exit", (code) => reject(new Error(`tfbridge serve exited with ${code}:\n${out}`)));
  });
}, 180_000);
afterAll(() => {
  if (server.exitCode === null) server.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("tfbridge serve --model NAME=PATH", () => {
  it("/readyz is 503 while the models load and 200 once they are served", async () => {
    expect(await readyWhileLoading).toBe(503);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it("answers a TF Serving predict with Keras's numbers, in both formats", async () => {
    const post = async (body: unknown) => (await fetch(`${base}/v1/models/classifier:predict`, { method: "POST", body: JSON.stringify(body) })).json();
    const { predictions } = (await post({ instances: rows })) as { predictions: number[][] };
    const { outputs } = (await post({ inputs: { features: rows } })) as { outputs: number[][] };
    expect(outputs).toEqual(predictions);
    predictions.forEach((row, i) => row.forEach((v, k) => expect(Math.abs(v - expected[i]![k]!)).toBeLessThan(1e-6)));
  });

  it("/metadata gives the serving signature as TF Serving does; status by version", async () => {
    const meta = (await (await fetch(`${base}/v1/models/classifier/metadata`)).json()) as Record<string, any>;
    expect(meta.model_spec).toEqual({ name: "classifier", signature_name: "", version: "1" });
    const signature = meta.metadata.signature_def.signature_def.serving_default;
    expect(signature.method_name).toBe("tensorflow/serving/predict");
    expect(signature.inputs.features).toMatchObject({ dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: "-1" }, { size: "3" }], unknown_rank: false } });
    expect(Object.values(signature.outputs)).toEqual([expect.objectContaining({ dtype: "DT_FLOAT", tensor_shape: expect.objectContaining({ dim: [{ size: "-1", name: "" }, { size: "2", name: "" }] }) })]);
    expect((await fetch(`${base}/v1/models/classifier/versions/1`)).status).toBe(200);
    expect((await fetch(`${base}/v1/models/classifier/versions/2/metadata`)).status).toBe(404);
  });

  it("/metrics counts every HTTP request by route and status, those refused before the pool too", async () => {
    const bad = await fetch(`${base}/v1/models/classifier:predict`, { method: "POST", body: "{not json" });
    expect(bad.status).toBe(400);
    await bad.body?.cancel();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^tfbridge_http_requests_total\{route="predict",code="200"\} 2$/m);
    expect(metrics).toMatch(/^tfbridge_http_requests_total\{route="predict",code="400"\} 1$/m);
    expect(metrics).toMatch(/^tfbridge_http_requests_total\{route="metadata",code="404"\} 1$/m);
  });

  it("HEAD is GET without the body, for health checkers; other methods are a 405 naming the allowed ones", async () => {
    for (const path of ["/healthz", "/readyz", "/v1/models/classifier", "/v1/models/classifier/metadata"]) {
      const [get, head] = [await fetch(`${base}${path}`), await fetch(`${base}${path}`, { method: "HEAD" })];
      expect(head.status, path).toBe(200);
      expect(head.headers.get("content-length"), path).toBe(get.headers.get("content-length"));
      expect(await head.text(), path).toBe("");
      await get.body?.cancel();
    }
    const metrics = await fetch(`${base}/metrics`, { method: "HEAD" });
    expect([metrics.status, await metrics.text()]).toEqual([200, ""]);
    const put = await fetch(`${base}/healthz`, { method: "PUT" });
    expect([put.status, put.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    await put.body?.cancel();
  });

  it("a client that leaves before its answer is counted too, as 499", async () => {
    const { port } = new URL(base);
    const socket = connect(Number(port), "127.0.0.1");
    await once(socket, "connect");
    socket.write('POST /v1/models/classifier:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"inst');
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    const counted = /^tfbridge_http_requests_total\{route="predict",code="499"\} 1$/m;
    let metrics = "";
    for (let tries = 0; tries < 50 && !counted.test(metrics); tries++) {
      await new Promise((r) => setTimeout(r, 100));
      metrics = await (await fetch(`${base}/metrics`)).text();
    }
    expect(metrics).toMatch(counted);
  });

  it("SIGTERM drains and exits 0", async () => {
    server.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});

describe("tfbridge serve: signals while it stops", () => {
  it("Ctrl-C (SIGINT to its whole process group) drains with the workers it had; SIGHUP meanwhile is ignored; a second stop ends it at once, by the signal", { timeout: 120_000 }, async () => {
    // Its own process group, as a shell gives a foreground job: the group's SIGINT is Ctrl-C's.
    const child = spawn(process.execPath, [CLI_MAIN, "serve", "--model", `classifier=${model}`, "--port", "0", "--workers", "2"], { stdio: ["ignore", "pipe", "inherit"], detached: true });
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const until = async (what: RegExp) => {
      for (let tries = 0; tries < 600 && !what.test(out); tries++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(what);
    };
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      await until(/model classifier ready/);
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      const workers = ((await (await fetch(`${url}/healthz`)).json()) as { workers: { pid: number }[] }).workers.map((w) => w.pid);
      expect(workers).toHaveLength(2);
      // Half a body holds the drain open (for drainTimeoutMs, 30 s by default).
      const socket = connect(Number(new URL(url).port), "127.0.0.1");
      socket.on("error", () => {});
      await once(socket, "connect");
      socket.write('POST /v1/models/classifier:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"inst');
      await new Promise((r) => setTimeout(r, 200));
      process.kill(-child.pid!, "SIGINT");
      // The drain has begun once readiness is off (or new connections are refused).
      for (let tries = 0; tries < 100 && (await fetch(`${url}/readyz`).then((r) => r.status, () => 0)) === 200; tries++) await new Promise((r) => setTimeout(r, 50));
      // Before, each worker died of KeyboardInterrupt here, the idle one at once.
      await new Promise((r) => setTimeout(r, 1000));
      expect(workers.filter(alive)).toEqual(workers);
      child.kill("SIGHUP");
      await until(/SIGHUP while draining: ignored/);
      expect(child.exitCode).toBeNull();
      child.kill("SIGTERM");
      expect(await ended).toEqual({ code: null, signal: "SIGTERM" });
      expect(out).toMatch(/SIGTERM again while stopping: exiting now, without answering what is still in flight/);
    } finally {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {}
    }
  });
});

describe("tfbridge serve on a port that is in use", () => {
  it("says so, with the port, and exits 1 without a stack trace", { timeout: 120_000 }, async () => {
    const taken = createServer().listen(0, "127.0.0.1");
    await once(taken, "listening");
    const { port } = taken.address() as AddressInfo;
    try {
      const { code, stderr } = await tfbridge("serve", "--model", `classifier=${model}`, "--port", String(port), "--workers", "1");
      expect(stderr).toContain(`ListenError: cannot listen on 127.0.0.1:${port}: EADDRINUSE, the port is in use`);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(code).toBe(1);
    } finally {
      taken.close();
    }
  });
});

describe("tfbridge serve: a bad command line is found before anything starts", () => {
  it.each([
    [[], /^tfbridge serve: --model NAME=PATH \(or --config FILE\) is required$/],
    [["--model", "nonsense"], /^tfbridge serve: --model must be NAME=PATH, got "nonsense"$/],
    [["--model", "m=/nonexistent/m.keras"], /^tfbridge serve: --model: models\[0\]\.path \/nonexistent\/m\.keras: no such file or folder$/],
    [["--config", "/nonexistent.json"], /^tfbridge serve: --config \/nonexistent\.json: no such file$/],
    [["--model", "m=x", "--config", "c.json"], /^tfbridge serve: --config holds the whole setup; it cannot be combined with --model$/],
  ])("%j", async (args, problem) => {
    const { code, stderr } = await tfbridge("serve", ...args);
    expect(code).toBe(2);
    expect(stderr.split("\n")[0]).toMatch(problem);
  });

  it("a config file that is not right names its field", async () => {
    const file = join(dir, "serve.json");
    const write = (value: unknown) => execFileSync("bash", ["-c", `cat > ${file}`], { input: JSON.stringify(value) });
    write({ models: [{ name: "a", path: "classifier.keras", config: {} }] });
    expect((await tfbridge("serve", "--config", file)).stderr).toMatch(/serve\.json: models\[0\] needs exactly one of path .* or config/);
    write({ port: 70000, models: [{ name: "a", path: "classifier.keras" }] });
    expect((await tfbridge("serve", "--config", file)).stderr).toMatch(/serve\.json: port must be an integer in 0…65535, got 70000/);
    expect(readFileSync(file, "utf8")).toMatch(/classifier\.keras/);
    write({ models: [{ name: "a", path: "classifier.keras", maxConcurrentRequests: 0 }] });
    expect((await tfbridge("serve", "--config", file)).stderr).toMatch(/serve\.json: models\[0\]\.maxConcurrentRequests must be an integer ≥ 1, got 0/);
    write({ models: [{ name: "a", path: "classifier.keras", maxConcurrentRequests: 2, batching: { maxBatchSize: 4, maxDelayMicros: 0 } }] });
    expect((await tfbridge("serve", "--config", file)).stderr).toMatch(/serve\.json: models\[0\]\.maxConcurrentRequests is for models that do not batch/);
    write({ models: [{ name: "a", path: "classifier.keras", warmup: "missing.npz" }] });
    expect((await tfbridge("serve", "--config", file)).stderr).toMatch(/serve\.json: models\[0\]\.warmup .*missing\.npz: no such file/);
  });

  it("warmup: an .npz of the model's inputs by name runs on each worker before the model is served; a wrong name fails the start, naming it; SIGTERM right after start drains and exits 0", async () => {
    const file = join(dir, "warm.json");
    const configWith = (warmup: string, arrays: string) => {
      execFileSync(".venv/bin/python", ["-c", `import numpy as np; np.savez(${JSON.stringify(join(dir, warmup))}, ${arrays})`]);
      execFileSync("bash", ["-c", `cat > ${file}`], { input: JSON.stringify({ port: 0, pool: { size: 1 }, models: [{ name: "warm", path: "classifier.keras", warmup, maxConcurrentRequests: 1 }] }) });
    };
    configWith("wrong.npz", "other=np.zeros((2, 3), np.float32)");
    const wrong = await tfbridge("serve", "--config", file);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/unknown other; missing features/);

    configWith("right.npz", "features=np.ones((2, 3), np.float32)");
    const right = spawn(process.execPath, [CLI_MAIN, "serve", "--config", file], { stdio: ["ignore", "pipe", "inherit"] });
    const code = new Promise((resolve) => right.on("exit", resolve));
    let out = "";
    await new Promise<void>((resolve, reject) => {
      right.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("model warm ready (version 1)")) resolve();
      });
      right.on("exit", () => reject(new Error(`serve exited:\n${out}`)));
    });
    // At once: SIGTERM is handled from the start (its default action would end serve without a drain).
    right.kill("SIGTERM");
    expect(await code).toBe(0);
  });
});

describe("tfbridge serve stopped while a model warms up", () => {
  /** An LSTM over 3,000,000 steps, whose warm-up runs for many seconds after it loads, and a quick one beside it. */
  const slowModel = () => {
    execFileSync(".venv/bin/python", ["-c", `import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, numpy as np
keras.Sequential([keras.Input((None, 1), name="series"), keras.layers.LSTM(4)]).save(${JSON.stringify(join(dir, "slow.keras"))})
keras.Sequential([keras.Input((None, 1), name="series"), keras.layers.LSTM(3)]).save(${JSON.stringify(join(dir, "quick.keras"))})
np.savez(${JSON.stringify(join(dir, "long.npz"))}, series=np.zeros((1, 3_000_000, 1), np.float32))`]);
  };
  const writeConfig = (file: string, config: unknown) => execFileSync("bash", ["-c", `cat > ${file}`], { input: JSON.stringify(config) });
  const slow = { name: "slow", path: "slow.keras", warmup: "long.npz" };

  /** serve on `file`; once stdout shows `when`, `then(process)` runs. Resolves with the exit code and all stdout. */
  const serveUntil = (file: string, when: string, then: (serve: ChildProcess) => void) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const serve = spawn(process.execPath, [CLI_MAIN, "serve", "--config", file], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      serve.stdout!.on("data", (chunk: Buffer) => {
        const seen = out.includes(when);
        out += chunk.toString();
        if (!seen && out.includes(when)) then(serve);
      });
      serve.on("exit", (code) => resolve({ code, out }));
    });

  it("SIGTERM while a model still warms up cuts the start short: exit 0, the model never served", { timeout: 120_000 }, async () => {
    slowModel();
    const file = join(dir, "slow.json");
    writeConfig(file, { port: 0, pool: { size: 1 }, models: [slow] });
    // Loading the .npz and the model takes about a second after `listening`; the warm-up runs seconds longer.
    const { code, out } = await serveUntil(file, "listening on", (serve) => setTimeout(() => serve.kill("SIGTERM"), 3000));
    expect(code).toBe(0);
    expect(out).toContain("SIGTERM while starting: stopped before serving");
    expect(out).not.toContain("model slow ready");
  });

  it("SIGTERM while a reload's model warms up drains without waiting for it: exit 0, the new model never served", { timeout: 120_000 }, async () => {
    slowModel();
    const file = join(dir, "reloading.json");
    writeConfig(file, { port: 0, pool: { size: 1 }, models: [{ name: "quick", path: "quick.keras" }] });
    const { code, out } = await serveUntil(file, "model quick ready", (serve) => {
      writeConfig(file, { port: 0, pool: { size: 1 }, models: [{ name: "quick", path: "quick.keras" }, slow] });
      serve.kill("SIGHUP");
      setTimeout(() => serve.kill("SIGTERM"), 2000);
    });
    expect(code).toBe(0);
    expect(out).toContain("SIGHUP: reloading");
    // Before, the drain waited for the warm-up, and the reload finished first.
    expect(out).not.toContain("model slow ready");
  });
});

describe("tfbridge serve: a text model fed strings, as TF Serving's JSON has them", () => {
  const text = join(dir, "text.keras");
  const sentences = [["the cat sat"], ["a dog ran far"]];
  let expectedText: number[][];
  let textServer: ChildProcess;
  let textBase: string;

  beforeAll(async () => {
    const script = `import os, json
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, tensorflow as tf
keras.utils.set_random_seed(2)
L = keras.layers
t = keras.Input(shape=(1,), dtype="string", name="text")
x = L.TextVectorization(vocabulary=["the", "cat", "sat", "a", "dog", "ran"], output_mode="int", output_sequence_length=4, name="tokens")(t)
x = L.Embedding(8, 4, name="embed")(x)
x = L.GlobalAveragePooling1D(name="pool")(x)
m = keras.Model(t, L.Dense(2, activation="softmax", name="score")(x))
m.save(${JSON.stringify(text)})
print(json.dumps(m.predict(tf.constant(${JSON.stringify(sentences)}), verbose=0).tolist()))`;
    expectedText = JSON.parse(execFileSync(".venv/bin/python", ["-c", script], { encoding: "utf8" })) as number[][];
    textServer = spawn(process.execPath, [CLI_MAIN, "serve", "--model", `text=${text}`, "--port", "0", "--workers", "1"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    await new Promise<void>((resolve, reject) => {
      textServer.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        textBase ??= /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] as string;
        if (out.includes("model text ready")) resolve();
      });
      textServer.on("exit", (code) => reject(new Error(`tfbridge serve exited with ${code}:\n${out}`)));
    });
  }, 180_000);
  afterAll(() => textServer?.kill("SIGKILL"));

  it("answers with Keras's numbers; /metadata says DT_STRING; a number or a b64 object for the text is a 400 naming the input", async () => {
    const post = (body: unknown) => fetch(`${textBase}/v1/models/text:predict`, { method: "POST", body: JSON.stringify(body) });
    const { predictions } = (await (await post({ instances: sentences })).json()) as { predictions: number[][] };
    predictions.forEach((row, i) => row.forEach((v, k) => expect(Math.abs(v - expectedText[i]![k]!)).toBeLessThan(1e-6)));
    const meta = (await (await fetch(`${textBase}/v1/models/text/metadata`)).json()) as Record<string, any>;
    expect(meta.metadata.signature_def.signature_def.serving_default.inputs.text.dtype).toBe("DT_STRING");
    const number = await post({ instances: [[3]] });
    expect(number.status).toBe(400);
    expect(((await number.json()) as { error: string }).error).toBe("input text: 3 is not a string");
    const b64 = await post({ instances: [[{ b64: "dGhl" }]] });
    expect(b64.status).toBe(400);
    expect(((await b64.json()) as { error: string }).error).toMatch(/input text: .* is not a string \(base64 \{"b64": …\} bytes are not served/);
  });
});

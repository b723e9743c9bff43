import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_MAIN } from "./run.js";

// tfbridge serve --config with version labels, reloaded by SIGHUP under HTTP traffic (issue 22): a
// real process, a real HTTP client, two real models.
const dir = mkdtempSync(join(tmpdir(), "tfbridge-serve-reload-"));
const configFile = join(dir, "serve.json");
const rows = [[0.1, -0.2, 0.3], [1, 2, 3]];
/** Keras's own predict of each model on `rows`. */
let expected: Record<"one" | "two", number[][]>;
let server: ChildProcess;
let base = "";
let out = "";

const config = (models: object[]) => writeFileSync(configFile, JSON.stringify({ port: 0, pool: { size: 1 }, service: { logRequests: true }, models }));
const model = (file: string, version: number, labels: string[] = []) => ({ name: "classifier", path: join(dir, file), version, labels });
const until = (text: string, from: number) =>
  new Promise<void>((resolve, reject) => {
    const check = () => (out.indexOf(text, from) >= 0 ? resolve() : server.exitCode !== null ? reject(new Error(out)) : setTimeout(check, 20));
    check();
  });
const predict = async (route: string) => {
  const res = await fetch(`${base}/v1/models/classifier${route}:predict`, { method: "POST", body: JSON.stringify({ instances: rows }) });
  return { status: res.status, body: (await res.json()) as { predictions?: number[][]; error?: string } };
};
const close = (a: number[][] | undefined, b: number[][]) => !!a && a.every((row, i) => row.every((x, j) => Math.abs(x - b[i]![j]!) <= 1e-5));
const which = (p: number[][] | undefined) => (close(p, expected.one) ? "one" : close(p, expected.two) ? "two" : "neither");

beforeAll(async () => {
  const script = `import os, json, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, numpy as np
out = {}
for seed, name in ((1, "one"), (2, "two")):
    keras.utils.set_random_seed(seed)
    m = keras.Sequential([keras.Input((3,), name="features"), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2, activation="softmax")])
    m.save(os.path.join(sys.argv[1], name + ".keras"))
    out[name] = m.predict(np.array(${JSON.stringify(rows)}, np.float32), verbose=0).tolist()
print(json.dumps(out))`;
  expected = JSON.parse(execFileSync(".venv/bin/python", ["-c", script, dir], { encoding: "utf8" }));
  config([model("one.keras", 1, ["stable"])]);
  server = spawn(process.execPath, [CLI_MAIN, "serve", "--config", configFile], { stdio: ["ignore", "pipe", "inherit"] });
  server.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    base ||= /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? "";
  });
  await until("model classifier ready", 0);
}, 180_000);
afterAll(() => {
  if (server.exitCode === null) server.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("tfbridge serve: version labels and reload", () => {
  it("routes /labels/LABEL to the version it names, and an unknown label is a 404", async () => {
    const stable = await predict("/labels/stable");
    expect(stable.status).toBe(200);
    expect(which(stable.body.predictions)).toBe("one");
    const status = await (await fetch(`${base}/v1/models/classifier/labels/stable`)).json();
    expect(status).toMatchObject({ model_version_status: [{ version: "1", state: "AVAILABLE" }] });
    const unknown = await predict("/labels/canary");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/labelled "canary"/);
    // The request log: one JSON line per answer, the label resolved to its version.
    await until('"status":404', 0);
    const logged = out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toContainEqual(expect.objectContaining({ method: "POST", path: "/v1/models/classifier/labels/stable:predict", route: "predict", model: "classifier", version: 1, status: 200 }));
    expect(logged).toContainEqual(expect.objectContaining({ path: "/v1/models/classifier/labels/canary:predict", status: 404, remote: "127.0.0.1" }));
  });

  it("SIGHUP loads a canary, then moves stable to it and unloads the old version, under traffic, with no request dropped", async () => {
    let traffic = true;
    const answers: { route: string; status: number; model: string }[] = [];
    const clients = ["", "/labels/stable", ""].map(async (route) => {
      while (traffic) {
        const { status, body } = await predict(route);
        answers.push({ route, status, model: which(body.predictions) });
      }
    });
    config([model("one.keras", 1, ["stable"]), model("two.keras", 2, ["canary"])]);
    let from = out.length;
    server.kill("SIGHUP");
    await until("reloaded", from);
    expect(which((await predict("/labels/canary")).body.predictions)).toBe("two");
    expect(which((await predict("/labels/stable")).body.predictions)).toBe("one");
    expect(which((await predict("")).body.predictions)).toBe("two"); // the highest version is the default
    config([model("two.keras", 2, ["stable"])]);
    from = out.length;
    server.kill("SIGHUP");
    await until("reloaded", from);
    traffic = false;
    await Promise.all(clients);
    expect(which((await predict("/labels/stable")).body.predictions)).toBe("two");
    expect((await predict("/versions/1")).status).toBe(404);
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(answers.filter((a) => a.model === "neither")).toEqual([]);
    expect(new Set(answers.filter((a) => a.route === "/labels/stable").map((a) => a.model))).toEqual(new Set(["one", "two"]));
  }, 120_000);

  it("a reload that would serve a new file under an old version number changes nothing", async () => {
    config([model("one.keras", 2, ["stable"])]);
    const from = out.length;
    server.kill("SIGHUP");
    await until("reload failed", from);
    expect(out.slice(from)).toMatch(/classifier version 2 is served from another source already/);
    expect(which((await predict("/labels/stable")).body.predictions)).toBe("two");
  });

  it("a request whose body is still arriving when a reload moves its label goes where the label points once it is in", async () => {
    // Where the tests before leave it: version 2 (two.keras) labelled stable.
    expect(which((await predict("/labels/stable")).body.predictions)).toBe("two");
    const body = JSON.stringify({ instances: rows });
    const socket = connect(Number(new URL(base).port), "127.0.0.1");
    let reply = "";
    socket.on("data", (chunk: Buffer) => (reply += chunk.toString()));
    const replied = once(socket, "end");
    await once(socket, "connect");
    socket.write(`POST /v1/models/classifier/labels/stable:predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    // Version 3 (one.keras) takes the label; version 2, which the label named when the request came, is unloaded.
    config([model("one.keras", 3, ["stable"])]);
    const from = out.length;
    server.kill("SIGHUP");
    await until("reloaded", from);
    socket.write(body.slice(10));
    await replied;
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(which((JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4)) as { predictions: number[][] }).predictions)).toBe("one");
  }, 120_000);
});

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelError, ModelLoadError, Pool, layers, sequential } from "../../src/index.js";
import { CONFIG_BOUNDS } from "../../src/models/bounds.js";
import { refuseCode } from "../../src/models/safety.js";
import { sharedBridge } from "../helpers.js";

// Model files and configs over a bound of protocol/bounds.json, through real workers: each is a
// ModelError naming the file, the member or field, and the bound, and the worker serves on.
const root = new URL("../..", import.meta.url).pathname;
const bridge = sharedBridge();
const dir = mkdtempSync(join(tmpdir(), "tfbridge-bounds-"));
const BOMB = join(dir, "bomb.keras");
const FIFO = join(dir, "pipe.keras");
const PICKLED = join(dir, "objects.npz");

beforeAll(() => {
  // A .keras file of a few MB whose config.json is 1 GiB of JSON (the zip bomb), a FIFO, and
  // an .npz holding a pickled object array; made by the worker's own Python.
  const script = `
import os, sys, zipfile, numpy as np, keras
bomb, fifo, pickled = sys.argv[1:4]
good = bomb + ".good.keras"
keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(good)
with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
    for item in src.namelist():
        if item != "config.json":
            dst.writestr(item, src.read(item))
    with dst.open("config.json", "w", force_zip64=True) as f:
        f.write(src.read("config.json")[:-1] + b', "pad": "')
        chunk = b" " * (1 << 20)
        for _ in range(1024):
            f.write(chunk)
        f.write(b'"}')
os.mkfifo(fifo)
np.savez(pickled, fine=np.arange(3), evil=np.array([{"a": 1}], dtype=object))
`;
  execFileSync(join(root, ".venv/bin/python"), ["-c", script, BOMB, FIFO, PICKLED], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3" }, stdio: ["ignore", "ignore", "inherit"] });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function chain(count: number) {
  return sequential({ name: "long", inputShape: [4], layers: Array.from({ length: count }, (_, i) => layers.dense({ units: 4, name: `d${i}` })) });
}

/** A config whose `extra` field nests `depth` objects deep. */
function deep(depth: number) {
  let node: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) node = { next: node };
  return { ...chain(1), extra: node };
}

describe("a zip bomb", () => {
  it("is refused by a Bridge's worker naming the file, the member and the bound, and the worker serves on", async () => {
    const { pid } = await bridge().workerInfo();
    const error = await bridge().loadModel(BOMB).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    const e = error as ModelError;
    expect(e.fromWorker).toBe(true);
    expect(e.details).toMatchObject({ file: BOMB, member: "config.json", bound: "maxExpansion", found: expect.any(Number) });
    expect(e.details.found).toBeGreaterThan(1 << 30);
    expect(e.message).toMatch(/member config\.json: declares 1,073,7\d\d,\d\d\d bytes/);
    expect((await bridge().workerInfo()).pid).toBe(pid);
  });

  it("fails a pool's load with that error on a worker, and every worker stays", async () => {
    await using pool = await Pool.start({ size: 2 });
    const pids = pool.workers.map((w) => w.info.pid).sort();
    const error = await pool.loadModel(BOMB, { name: "bomb" }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as ModelLoadError).cause).toBeInstanceOf(ModelError);
    expect(((error as ModelLoadError).cause as ModelError).details).toMatchObject({ member: "config.json", bound: "maxExpansion" });
    expect(pool.workers.map((w) => w.info.pid).sort()).toEqual(pids);
    await pool.loadModel({ config: chain(2), seed: 1 }, { name: "small" });
    expect(pool.models().map((m) => m.name)).toEqual(["small"]);
  });
});

describe("config bounds, checked before a config is sent", () => {
  it("a Sequential longer than maxSequentialLayers is refused naming its length and the bound", async () => {
    const config = chain(CONFIG_BOUNDS.maxSequentialLayers + 1);
    const error = await bridge().model(config).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).fromWorker).toBe(false);
    expect((error as ModelError).message).toMatch(/layers of Sequential long is 202, over the bound of 200 \(maxSequentialLayers/);
    // The worker makes the same check (a caller that skips this side's).
    const worker = await bridge().call("model.build", { config, weights: [], seed: 0 }).then(() => null, (e: unknown) => e);
    expect(worker).toBeInstanceOf(ModelError);
    expect((worker as ModelError).details).toEqual({ bound: "maxSequentialLayers", limit: 200, found: 202 });
  });

  it("more layers than maxLayers, nested models' layers counted, is refused naming the count", () => {
    const inner = chain(150);
    const outer = { class_name: "Functional", config: { name: "outer", layers: Array.from({ length: 14 }, () => inner) } };
    expect(() => refuseCode(outer, "many.keras")).toThrow(/many\.keras: the number of layers \(nested models' layers included\) is 2,?128, over the bound of 2,048 \(maxLayers/);
  });

  it("a config nested deeper than maxDepth is a ModelError, even far deeper than a recursive scan goes", async () => {
    for (const depth of [CONFIG_BOUNDS.maxDepth + 1, 100_000]) {
      const error = await bridge().model(deep(depth) as never).then(() => null, (e: unknown) => e);
      expect(error, `depth ${depth}`).toBeInstanceOf(ModelError);
      expect((error as ModelError).details).toMatchObject({ bound: "maxDepth", limit: 64 });
    }
  });
});

describe("code in a field of a layer", () => {
  const lambda = { class_name: "__lambda__", config: { value: ["4wEAAAAAAAAA", null, null] } };
  for (const field of ["kernel_initializer", "kernel_regularizer", "kernel_constraint", "activation"]) {
    it(`a lambda in ${field} is refused on both sides naming the layer and the field`, async () => {
      const config = chain(1) as unknown as { config: { layers: { config: Record<string, unknown> }[] } };
      config.config.layers[1]!.config[field] = lambda;
      const here = await bridge().model(config as never).then(() => null, (e: unknown) => e);
      expect((here as ModelError).details.problems).toEqual([{ layer: "d0", field, class: "__lambda__", reason: "is Python bytecode stored in the model" }]);
      const there = await bridge().call("model.build", { config: config as never, weights: [], seed: 0 }).then(() => null, (e: unknown) => e);
      expect((there as ModelError).fromWorker).toBe(true);
      expect((there as ModelError).details.problems).toEqual([{ layer: "d0", field, class: "__lambda__", reason: "is Python bytecode stored in the model" }]);
      expect((there as ModelError).message).toMatch(new RegExp(`d0 ${field} \\(__lambda__\\)`));
    });
  }

  it("a Keras class that would unpickle what its config holds (TorchModuleWrapper) is refused wherever it sits", () => {
    const config = chain(1) as unknown as { config: { layers: { config: Record<string, unknown> }[] } };
    config.config.layers[1]!.config.kernel_constraint = { module: "keras.layers", class_name: "TorchModuleWrapper", config: { module: "gASV" } };
    expect(() => refuseCode(config)).toThrow(/d0 kernel_constraint \(TorchModuleWrapper\) unpickles a PyTorch module stored in the model/);
  });

  it("a class named like an Object property is judged as any other class, not looked up on the prototype", () => {
    const config = chain(1) as unknown as { config: { layers: { class_name: string; module?: string }[] } };
    Object.assign(config.config.layers[1]!, { class_name: "constructor", module: "my.module" });
    expect(() => refuseCode(config)).toThrow(/d0 \(constructor\) is a class from module "my\.module"/);
  });
});

describe("paths that are not regular files", () => {
  it("a FIFO as the model path is refused by what it is, at once, and the worker serves on", async () => {
    const error = await bridge().loadModel(FIFO, { timeoutMs: 60_000 }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).message).toBe(`${FIFO} is a FIFO (named pipe), not a regular file or a folder: refused before opening it`);
    await expect(bridge().echo([])).resolves.toEqual([]);
  });

  it("a pool refuses a FIFO before reading it", async () => {
    await using pool = await Pool.start({ size: 1 });
    await expect(pool.loadModel(FIFO, { name: "pipe" })).rejects.toThrow(/neither a file nor a folder/);
  });
});

describe(".npz files", () => {
  it("a pickled object array is a ModelError naming the array, never unpickled", async () => {
    const error = await bridge().loadNpz(PICKLED).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).details).toEqual({ file: PICKLED, member: "evil" });
    expect((error as ModelError).message).toMatch(/array evil holds pickled Python objects \(object\); tfbridge never unpickles/);
  });
});

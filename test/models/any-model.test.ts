import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelError, ModelLoadError, Pool, TfjsUnsupportedModelError, convertModel, layers, sequential } from "../../src/index.js";
import { runModelParity } from "../../src/entry/parity.js";
import { MAX_MESSAGE_CHARS } from "../../src/models/refusal.js";
import { sharedBridge } from "../helpers.js";
import { type KerasReference, kerasReferences, maxAbsDiff } from "./keras-reference.js";

// Python-side execution of models outside the TF.js twin's layer set: nested models, shared layers,
// operation nodes. Each model is saved by Keras itself with Keras's own predict beside it.
const bridge = sharedBridge();
const dir = mkdtempSync(join(tmpdir(), "tfbridge-any-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Keras's own predict and the worker's may order float sums differently (batching, Grappler). */
const ATOL = 1e-5;
const TRANSFER = `base = keras.applications.MobileNetV2(input_shape=(64, 64, 3), alpha=0.35, weights=None, include_top=False)
image = keras.Input((64, 64, 3), name="image")
m = keras.Model(image, L.Dense(3, name="head")(L.GlobalAveragePooling2D(name="pool")(base(image))))`;
const TRANSFORMER = `tokens = keras.Input((6, 8), name="tokens")
attended = L.MultiHeadAttention(2, 4, name="attention")(tokens, tokens)
x = L.LayerNormalization(name="norm")(tokens + attended)
m = keras.Model(tokens, L.Dense(8, name="ffn")(x))`;

const SHARED = `x = keras.Input((4,), name="x")
dense = L.Dense(4, activation="tanh", name="dense")
m = keras.Model(x, dense(dense(x)))`;
// A 3-D CNN of classes the twin lacks (its 2-D counterparts have one).
const CNN = `m = keras.Sequential([keras.Input((6, 6, 6, 2)), L.ZeroPadding3D(1), L.Conv3DTranspose(2, 3), L.Conv3DTranspose(2, 3), L.Flatten(), L.Dense(2)])`;
// Keras runs the Lambda while building and saving: the test removes the marker it leaves, then loads.
const LAMBDA_MARKER = join(dir, "lambda-ran");
const NESTED_LAMBDA = `inner_in = keras.Input((3,))
inner = keras.Model(inner_in, L.Lambda(lambda t: (open(${JSON.stringify(LAMBDA_MARKER)}, "w").close(), t * 2)[1], name="double")(inner_in), name="inner")
x = keras.Input((3,))
m = keras.Model(x, L.Dense(1)(inner(x)))`;

let refs: Record<string, KerasReference>;
beforeAll(async () => {
  refs = await kerasReferences(bridge(), dir, { transfer: TRANSFER, transformer: TRANSFORMER, shared: SHARED, cnn: CNN, nestedLambda: NESTED_LAMBDA });
});

/** Loads the reference, checks the worker's predict in every mode against Keras's, and logs the worst difference. */
async function expectKerasPredict(label: string, reference: KerasReference) {
  const started = performance.now();
  const handle = await bridge().loadModel(reference.path);
  const worst: Record<string, number> = {};
  for (const mode of ["session", "eager", "function"] as const) {
    const { outputs, names } = await handle.predict(reference.inputs, { mode });
    worst[mode] = maxAbsDiff(outputs[names[0]!]!, reference.expected);
    expect(worst[mode], `${label} ${mode}`).toBeLessThanOrEqual(ATOL);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${label}: max |worker - Keras predict| ${JSON.stringify(worst)}; Keras build + save + predict ${reference.kerasSeconds.toFixed(1)} s, worker load + 3 modes ${seconds} s`);
  return handle;
}

describe("models beyond a flat graph of layers: nested models, shared layers, operation nodes", () => {
  it("a transfer-learning model (MobileNetV2 nested inside) predicts what Keras predicts; its layers are named by path", async () => {
    await using handle = await expectKerasPredict("transfer MobileNetV2", refs.transfer!);
    const base = "mobilenetv2_0.35_64";
    const names = handle.layers.map((l) => l.name);
    expect(names.slice(0, 2)).toEqual([`${base}/Conv1`, `${base}/bn_Conv1`]);
    expect(names.slice(-3)).toEqual([base, "pool", "head"]);
    expect(handle.layers[0]!.class).toBe("Conv2D");
    const all = await handle.predict(refs.transfer!.inputs, { outputs: "layers" });
    expect(all.names).toEqual(names);
    expect(all.outputs[`${base}/Conv1`]!.shape).toEqual([2, 32, 32, 16]);
    expect(maxAbsDiff(all.outputs.head!, refs.transfer!.expected)).toBeLessThanOrEqual(ATOL);
    expect(handle.tfjs).toEqual({ supported: true }); // the twin expands the nested base (test/tfjs/nested-shared.test.ts)
  });

  it("a Transformer block (MultiHeadAttention, LayerNormalization, an `x + y` operation node) predicts what Keras predicts", async () => {
    await using handle = await expectKerasPredict("transformer block", refs.transformer!);
    const names = handle.layers.map((l) => l.name);
    expect(names[0]).toBe("attention");
    expect(names[1]).toMatch(/^add(_\d+)?$/); // Keras numbers operation names
    expect(names.slice(2)).toEqual(["norm", "ffn"]);
    expect(handle.layers[1]!.class).toBe("Add");
  });

  it("a shared layer's calls are told apart: dense, then dense@1", async () => {
    const shared = refs.shared!;
    await using handle = await expectKerasPredict("shared Dense", shared);
    expect(handle.layers.map((l) => l.name)).toEqual(["dense", "dense@1"]);
    expect(handle.outputs.map((o) => o.name)).toEqual(["dense@1"]);
    const all = await handle.predict(shared.inputs, { outputs: "layers" });
    expect(maxAbsDiff(all.outputs["dense@1"]!, shared.expected)).toBeLessThanOrEqual(ATOL);
    expect(maxAbsDiff(all.outputs.dense!, shared.expected)).toBeGreaterThan(1e-3); // the first call is another tensor
  });

  it("parity and convert refuse a model without a TF.js twin with a short typed error that lists its classes", async () => {
    await using handle = await expectKerasPredict("small CNN", refs.cnn!);
    expect(handle.tfjs.supported ? [] : handle.tfjs.problems.map((p) => p.class)).toEqual(["ZeroPadding3D", "Conv3DTranspose", "Conv3DTranspose"]);
    const error = await runModelParity(handle).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TfjsUnsupportedModelError);
    const refusal = error as TfjsUnsupportedModelError;
    expect(refusal.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(refusal.message).toContain("no TF.js twin for Conv3DTranspose ×2, ZeroPadding3D ×1.");
    expect(refusal.message).toContain("still runs in Python");
    expect(refusal.message).not.toContain("layers.json");
    expect(refusal.reasons.length).toBe(handle.tfjs.supported ? 0 : handle.tfjs.problems.length);
    const convert = await convertModel(refs.cnn!.path, join(dir, "web"), { bridge: bridge() }).catch((e: unknown) => e);
    expect(convert).toBeInstanceOf(TfjsUnsupportedModelError);
    expect(existsSync(join(dir, "web"))).toBe(false);
  });

  it("a model of the twin's layers says so", async () => {
    await using handle = await bridge().model(sequential({ inputShape: [3, 2], layers: [layers.lstm({ units: 2 }), layers.dense({ units: 1 })] }));
    expect(handle.tfjs).toEqual({ supported: true });
    expect(handle.config.config.layers[1]!.config.recurrent_activation).toBe("sigmoid"); // resolved: defaults explicit
  });
});

describe("code in a model is refused before Keras reads it", () => {
  it("a Lambda inside a nested model: a ModelError naming the file and layer, nothing run, and the worker keeps serving", async () => {
    const marker = LAMBDA_MARKER;
    const path = refs.nestedLambda!.path;
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);
    const error = await bridge().loadModel(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).details).toMatchObject({ file: path, layer: "double", problems: [{ layer: "double", class: "Lambda" }] });
    expect(existsSync(marker)).toBe(false);
    await using next = await bridge().loadModel(refs.shared!.path);
    expect(maxAbsDiff((await next.predict(refs.shared!.inputs)).outputs["dense@1"]!, refs.shared!.expected)).toBeLessThanOrEqual(ATOL);
  });

  it("bridge.model refuses a Lambda or a custom class before sending anything", async () => {
    const config = sequential({ inputShape: [3], layers: [layers.dense({ units: 2 })] });
    config.config.layers.push(
      { class_name: "Lambda", config: { name: "code" } },
      { class_name: "Mine", module: "my_package.layers", config: { name: "mine" } },
      // A data-wrapper name does not make a foreign module safe: the module is what Keras would import.
      { class_name: "__typespec__", module: "os", config: { name: "wrapper" } },
    );
    const error = await bridge().model(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).fromWorker).toBe(false);
    expect((error as ModelError).details.problems!.map((p) => `${p.layer}:${p.class}`)).toEqual(["code:Lambda", "mine:Mine", "wrapper:__typespec__"]);
    expect((error as ModelError).message).toContain("Lambda ×1, Mine ×1");
  });

  it("pool.loadModel runs a model outside the twin, and its refusals name the user's path, not the pool's copy", async () => {
    await using pool = await Pool.start({ size: 1 });
    const { path, inputs, expected } = refs.transformer!;
    await pool.loadModel(path, { name: "transformer", warmup: false });
    expect(maxAbsDiff((await pool.predict("transformer", inputs)).outputs.ffn!, expected)).toBeLessThanOrEqual(ATOL);
    const lambda = refs.nestedLambda!.path;
    const error = await pool.loadModel(lambda, { name: "lambda", warmup: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    const cause = (error as ModelLoadError).cause as ModelError;
    expect(cause.details.file).toBe(lambda);
    expect((error as ModelLoadError).message).toContain(lambda);
    expect((error as ModelLoadError).message).not.toContain("tfbridge-served-");
    expect((await pool.predict("transformer", inputs)).names).toEqual(["ffn"]);
  });
});

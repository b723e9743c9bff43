import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ModelError, type ModelHandle, input, layers, model, ndarray, sequential } from "../../src/index.js";
import { runModelParity } from "../../src/entry/parity.js";
import { uniformFloat32 } from "../../src/random.js";
import { bytesOf, sharedBridge } from "../helpers.js";

const bridge = sharedBridge();
const dir = mkdtempSync(join(tmpdir(), "tfbridge-models-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a real .keras file with Keras itself, as a user's training script would. */
function kerasFile(name: string, body: string): string {
  const path = join(dir, name);
  const script = `import os\nos.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"\nimport keras\nL = keras.layers\n${body}\nm.save(${JSON.stringify(path)})\n`;
  execFileSync(".venv/bin/python", ["-c", script], { stdio: ["ignore", "ignore", "pipe"] });
  return path;
}

const encoderDecoder = () => {
  const encoderIn = input({ shape: [6, 3], name: "encoder_in" });
  const decoderIn = input({ shape: [5, 2], name: "decoder_in" });
  const [, h, c] = layers.lstm({ units: 4, returnState: true, name: "encoder" }).applyAll(encoderIn);
  const seq = layers.lstm({ units: 4, returnSequences: true, name: "decoder" }).apply(decoderIn, { initialState: [h!, c!] });
  const out = layers.timeDistributed({ layer: layers.dense({ units: 3, activation: "softmax" }), name: "head" }).apply(seq);
  return model({ inputs: [encoderIn, decoderIn], outputs: [out, h!], name: "seq2seq" });
};

describe("models described in TypeScript", () => {
  it("a functional encoder-decoder runs in all three modes with bit-identical results", async () => {
    await using handle = await bridge().model(encoderDecoder(), { seed: 3 });
    expect(handle.inputs.map((i) => i.name)).toEqual(["encoder_in", "decoder_in"]);
    expect(handle.outputs.map((o) => o.name)).toEqual(["head", "encoder:1"]);
    const x = { encoder_in: ndarray("float32", [2, 6, 3], uniformFloat32(36, 1, -1, 1)), decoder_in: ndarray("float32", [2, 5, 2], uniformFloat32(20, 2, -1, 1)) };
    const session = await handle.predict(x);
    expect(session.mode).toBe("session");
    expect(session.outputs.head!.shape).toEqual([2, 5, 3]);
    for (const mode of ["eager", "function"] as const) {
      const other = await handle.predict(x, { mode });
      // The arrays' own bytes: on the local link a small array is a view into its whole reply message.
      for (const name of session.names) expect(bytesOf(other.outputs[name]!.data)).toEqual(bytesOf(session.outputs[name]!.data));
    }
  });

  it("outputs: layers names every layer's outputs, and the final ones equal the unmarked graph's", async () => {
    await using handle = await bridge().model(encoderDecoder(), { seed: 4 });
    const x = [ndarray("float32", [1, 6, 3], uniformFloat32(18, 5)), ndarray("float32", [1, 5, 2], uniformFloat32(10, 6))];
    const all = await handle.predict(x, { outputs: "layers" });
    expect(all.names).toEqual(["encoder", "encoder:1", "encoder:2", "decoder", "head"]);
    expect(handle.layers.map((l) => `${l.name}/${l.class}`)).toEqual(["encoder/LSTM", "encoder:1/LSTM", "encoder:2/LSTM", "decoder/LSTM", "head/TimeDistributed"]);
    const final = await handle.predict(x);
    expect(all.outputs.head!.data).toEqual(final.outputs.head!.data);
  });

  it("explicit weights round-trip: a model built from another's weights computes the same", async () => {
    const config = sequential({ inputShape: [4, 2], layers: [layers.gru({ units: 3, returnSequences: true }), layers.layerNormalization(), layers.dense({ units: 2 })] });
    await using a = await bridge().model(config, { seed: 9 });
    await using b = await bridge().model(config, { weights: await a.weights() });
    const x = ndarray("float32", [3, 4, 2], uniformFloat32(24, 7, -1, 1));
    expect((await b.predict(x)).outputs.dense!.data).toEqual((await a.predict(x)).outputs.dense!.data);
  });

  it("a model Keras builds runs even where the TF.js twin cannot follow; handle.tfjs names every such layer and argument", async () => {
    const config = sequential({ inputShape: [3], layers: [layers.dense({ units: 2 })] });
    (config.config.layers[1]!.config as Record<string, unknown>).lora_rank = 2;
    config.config.layers.push({ class_name: "UnitNormalization", config: { name: "unit" } });
    await using handle = await bridge().model(config, { seed: 1 });
    expect(handle.tfjs.supported ? [] : handle.tfjs.problems.map((p) => `${p.layer}:${p.class}:${p.field ?? ""}`)).toEqual(["dense:Dense:lora_rank", "unit:UnitNormalization:"]);
    const { outputs } = await handle.predict(ndarray("float32", [1, 3], Float32Array.of(1, 2, 3)));
    const [a, b] = outputs.unit!.data as Float32Array;
    expect(a! * a! + b! * b!).toBeCloseTo(1, 5);
  });

  it("bad weights and inputs are typed errors naming the layer or input, and the worker keeps serving", async () => {
    const config = sequential({ inputShape: [5], inputDtype: "int32", layers: [layers.embedding({ inputDim: 10, outputDim: 3 }), layers.flatten(), layers.dense({ units: 1 })] });
    const wrong = await bridge().model(config, { weights: { embedding: [ndarray("float32", [9, 3], new Float32Array(27))] } }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ModelError);
    expect((wrong as ModelError).details.layer).toBe("embedding");
    await using handle = await bridge().model(config, { seed: 1 });
    const outOfRange = await handle.predict(ndarray("int32", [1, 5], Int32Array.of(1, 2, 3, 4, 10))).catch((e: unknown) => e);
    expect(outOfRange).toBeInstanceOf(ModelError);
    expect((outOfRange as ModelError).details).toEqual({ input: "input_layer", layer: "embedding" });
    expect(() => handle.orderInputs({ ids: ndarray("int32", [1, 5], new Int32Array(5)) })).toThrow(/no model input named ids/);
    expect(() => handle.orderInputs(ndarray("float32", [1, 5], new Float32Array(5)))).toThrow(/must be int32/);
    expect(() => handle.orderInputs(ndarray("int32", [1, 6], new Int32Array(6)))).toThrow(/must have shape \[null,5\]/);
    expect((await handle.predict(ndarray("int32", [2, 5], new Int32Array(10)))).outputs.dense!.shape).toEqual([2, 1]);
  });

  it("dispose frees the model in the worker; a disposed handle refuses to run", async () => {
    const handle: ModelHandle = await bridge().model(sequential({ inputShape: [2], layers: [layers.dense({ units: 1 })] }));
    await handle.dispose();
    await handle.dispose();
    await expect(handle.predict(ndarray("float32", [1, 2], new Float32Array(2)))).rejects.toThrow(ModelError);
    const reused = await bridge().call("model.predict", { handle: handle.info.handle }, [ndarray("float32", [1, 2], new Float32Array(2))]).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(ModelError);
  });
});

describe("a user's model files", () => {
  it("loads a .keras file and reports its config, inputs and outputs", async () => {
    const path = kerasFile("classifier.keras", `ids = keras.Input((7,), dtype="int32", name="ids")
x = L.Embedding(30, 4, mask_zero=True)(ids)
x = L.Bidirectional(L.GRU(3, reset_after=False))(x)
m = keras.Model(ids, L.Dense(2, activation="softmax", name="probs")(x))`);
    await using handle = await bridge().loadModel(path);
    expect(handle.info.source).toBe(path);
    expect(handle.inputs).toEqual([{ name: "ids", shape: [null, 7], dtype: "int32" }]);
    expect(handle.outputs.map((o) => o.name)).toEqual(["probs"]);
    const gru = handle.config.config.layers.find((l) => l.class_name === "Bidirectional")!.config.layer as { config: Record<string, unknown> };
    expect(gru.config.reset_after).toBe(false);
    const out = await handle.predict(ndarray("int32", [2, 7], Int32Array.of(1, 2, 3, 0, 0, 0, 0, 4, 5, 6, 7, 8, 9, 1)));
    const probs = out.outputs.probs!.data as Float32Array;
    expect(probs[0]! + probs[1]!).toBeCloseTo(1, 5);
  });

  it("a model whose masked merges Keras recorded as operation nodes loads, and its TF.js twin agrees", async () => {
    const path = kerasFile("masked-merges.keras", `ids = keras.Input((6,), dtype="int32", name="ids")
e = L.Embedding(12, 4, mask_zero=True)(ids)
a, b = L.Dense(3)(e), L.SimpleRNN(3, return_sequences=True)(e)
m = keras.Model(ids, L.LSTM(2)(L.Concatenate()([L.Maximum()([a, b]), L.Multiply()([a, b])])))`);
    await using handle = await bridge().loadModel(path);
    const ops = handle.config.config.layers.filter((l) => l.module === "keras.src.ops.numpy").map((l) => l.class_name);
    expect(ops).toEqual(expect.arrayContaining(["NotEqual", "ExpandDims", "LogicalOr", "Concatenate", "Any"]));
    const report = await runModelParity(handle, { inputs: [ndarray("int32", [2, 6], Int32Array.of(1, 2, 3, 0, 0, 0, 4, 5, 6, 7, 8, 9))], skipCpu: true });
    for (const layer of report.layers) expect(layer.pass, `${layer.name}: ${layer.reason}`).toBe(true);
    // The order the graph computes them (Keras's node depth order): Maximum and Multiply share a depth.
    expect(report.layers.map((l) => l.class)).toEqual(["Embedding", "Dense", "SimpleRNN", "Multiply", "Maximum", "Concatenate", "LSTM"]);
  });

  it("refuses missing, corrupt and code-carrying files by name, without running them", async () => {
    const missing = await bridge().loadModel(join(dir, "nope.keras")).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ModelError);
    expect((missing as ModelError).details.file).toBe(join(dir, "nope.keras"));
    const junk = join(dir, "junk.keras");
    writeFileSync(junk, "this is not a zip");
    await expect(bridge().loadModel(junk)).rejects.toThrow(/not a zip archive/);
    // The Lambda leaves a marker whenever it runs (Keras runs it once while saving).
    const marker = join(dir, "lambda-ran");
    const lambda = kerasFile("lambda.keras", `x = keras.Input((3,))
m = keras.Model(x, L.Lambda(lambda t: (open(${JSON.stringify(marker)}, "w").close(), t * 2)[1], name="double")(L.Dense(2)(x)))`);
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);
    const error = await bridge().loadModel(lambda).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).details.problems).toEqual([expect.objectContaining({ layer: "double", class: "Lambda" })]);
    expect(existsSync(marker)).toBe(false);
    expect((await bridge().echo([ndarray("float32", [1], Float32Array.of(1))]))[0]!.shape).toEqual([1]);
  });
});

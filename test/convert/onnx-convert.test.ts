import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConvertError, ModelError, convertModelToOnnx } from "../../src/index.js";
import { OnnxModel, type OnnxParityReport, compareArrays, proveOnnx, seededInput } from "../../src/entry/parity.js";
import { tfbridge } from "../cli/run.js";
import { sharedBridge } from "../helpers.js";

// The reference models of issue 12 (trained briefly, saved by Keras) and a text model fed strings.
const dir = mkdtempSync(join(tmpdir(), "tfbridge-onnx-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
execFileSync(".venv/bin/python", ["test/convert/make_models.py", dir], { stdio: ["ignore", "ignore", "pipe"] });
execFileSync(".venv/bin/python", ["-c", `import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
L = keras.layers
text = keras.Input(shape=(1,), dtype="string", name="text")
tokens = L.TextVectorization(vocabulary=["the", "cat"], output_sequence_length=4, name="tokens")(text)
keras.Model(text, L.Embedding(4, 2, name="embed")(tokens)).save(${JSON.stringify(join(dir, "text.keras"))})
# A CenterCrop that enlarges (it resizes then): tf2onnx 1.17 writes a Reshape to the input's size after it.
x = keras.Input((12,), name="x")
y = L.CenterCrop(5, 5, name="crop")(L.Reshape((3, 4, 1))(x))
keras.Model(x, L.Dense(2, name="dense")(L.Flatten()(y))).save(${JSON.stringify(join(dir, "crop.keras"))})
# An integer output: which scores are positive, as 0/1. (Keras's argmax is no example: its TF backend
# goes through Bitcast and BitwiseAnd, which tf2onnx 1.17 refuses by name.)
x = keras.Input((4,), name="features")
scores = L.Dense(3, name="scores")(x)
keras.Model(x, [scores, keras.ops.cast(keras.ops.greater(scores, 0), "int32")]).save(${JSON.stringify(join(dir, "positive.keras"))})
`], { stdio: ["ignore", "ignore", "pipe"] });
const bridge = sharedBridge();

/** The written model.onnx, run by itself on both runtimes, against the Session on the same inputs. */
async function agreesWithSession(model: string, out: string, npz: string): Promise<number> {
  await using handle = await bridge().loadModel(model);
  const inputs = await bridge().loadNpz(npz);
  const session = await handle.predict(inputs);
  let worst = 0;
  for (const runtime of ["onnxruntime-node", "onnxruntime-web"] as const) {
    const onnx = await OnnxModel.load(runtime, join(out, "model.onnx"));
    try {
      expect([...onnx.outputNames]).toEqual(session.names);
      const outputs = await onnx.run(inputs);
      for (const name of session.names) {
        const c = compareArrays(outputs[name]!, session.outputs[name]!, { atol: 1e-5, rtol: 0 });
        expect(c.pass, `${runtime} ${name}: ${c.maxAbsError}`).toBe(true);
        worst = Math.max(worst, c.maxAbsError);
      }
    } finally {
      await onnx.release();
    }
  }
  return worst;
}

describe("tfbridge convert --to onnx", () => {
  it("writes model.onnx with a per-layer proof on onnxruntime-node and -web, from the command line", { timeout: 180_000 }, async () => {
    const out = join(dir, "encoder-decoder");
    const run = await tfbridge("convert", join(dir, "lstm-encoder-decoder.keras"), out, "--to", "onnx", "--inputs", join(dir, "lstm-encoder-decoder.inputs.npz"), "--json");
    expect(run.code, run.stderr).toBe(0);
    const printed = JSON.parse(run.stdout);
    expect(printed).toMatchObject({ ok: true, files: ["model.onnx", "parity.json", "parity.html"], parity: { target: "onnx", passed: true, firstDivergentLayer: null } });
    expect(readdirSync(out).sort()).toEqual(["model.onnx", "parity.html", "parity.json"]);
    const report = JSON.parse(readFileSync(join(out, "parity.json"), "utf8")) as OnnxParityReport;
    // Every layer output the Session names, on both runtimes, with its ULP histogram and timestep curve.
    await using handle = await bridge().loadModel(join(dir, "lstm-encoder-decoder.keras"));
    expect(report.layers.map((l) => l.name)).toEqual(handle.layers.map((l) => l.name));
    for (const layer of report.layers) {
      expect(Object.keys(layer.runtimes).sort()).toEqual(["onnxruntime-node", "onnxruntime-web"]);
      for (const c of Object.values(layer.runtimes)) expect(c!.comparable && c!.pass).toBe(true);
    }
    const decoder = report.layers.find((l) => l.name === "decoder")!.runtimes["onnxruntime-node"]!;
    expect(decoder.timestepMaxAbsError).toHaveLength(decoder.shape.expected[1]!);
    expect(readFileSync(join(out, "parity.html"), "utf8")).toContain('id="verdict"');
    expect(await agreesWithSession(join(dir, "lstm-encoder-decoder.keras"), out, join(dir, "lstm-encoder-decoder.inputs.npz"))).toBeLessThan(1e-5);
  });

  it.each(["lstm", "embedding-bigru", "conv1d-causal-lstm", "simplernn-layernorm", "lstm-relu-hardsigmoid-bn"])("proves %s layer by layer through the API", { timeout: 120_000 }, async (name) => {
    const out = join(dir, name);
    const result = await convertModelToOnnx(join(dir, `${name}.keras`), out, { bridge: bridge(), inputs: join(dir, `${name}.inputs.npz`) });
    expect(result.ok).toBe(true);
    expect(result.report.layers.length).toBeGreaterThan(1);
    expect(result.report.modelOutputs.every((o) => o.pass)).toBe(true);
    // ONNX Runtime's kernels are not TensorFlow's: somewhere a layer is not bit-identical, and the report says where.
    expect(result.report.firstInexactLayer).not.toBeNull();
    expect(await agreesWithSession(join(dir, `${name}.keras`), out, join(dir, `${name}.inputs.npz`))).toBeLessThan(1e-5);
  });

  it("parity --runtime onnx proves without writing anything, its scratch folder removed", { timeout: 120_000 }, async () => {
    const before = readdirSync(dir).sort();
    const temp = mkdtempSync(join(tmpdir(), "tfbridge-temp-"));
    const run = await tfbridge.env({ TMPDIR: temp })("parity", "model", join(dir, "gru-reset-before.keras"), "--runtime", "onnx", "--json");
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as OnnxParityReport;
    expect(report.passed).toBe(true);
    expect(report.layers.map((l) => l.name)).toEqual(["gru", "out"]);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readdirSync(temp).filter((f) => f.startsWith("tfbridge-onnx-"))).toEqual([]);
    rmSync(temp, { recursive: true, force: true });
  });

  it("an integer output is held to equality, and passes (it could not pass before: only floats compared)", { timeout: 120_000 }, async () => {
    const run = await tfbridge("parity", "model", join(dir, "positive.keras"), "--runtime", "onnx", "--json");
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as OnnxParityReport;
    const positive = report.modelOutputs[1]!;
    expect(positive.runtimes["onnxruntime-node"]!.dtype).toEqual({ actual: "int32", expected: "int32" });
    expect(positive).toMatchObject({ pass: true, reason: null });
    expect(positive.runtimes["onnxruntime-node"]!.elements).toBeGreaterThan(0);
  });

  it("a proof on no runtime is refused, not passed", async () => {
    await using handle = await bridge().loadModel(join(dir, "lstm.keras"));
    const inputs = handle.inputs.map((i) => seededInput([2, ...i.shape.slice(1).map((d) => d ?? 4)], 1));
    await expect(proveOnnx(handle, inputs, { runtimes: [] })).rejects.toThrow(/needs at least one runtime/);
  });
});

describe("tfbridge parity sweep --runtime onnx", () => {
  // The sweep itself is make test-long's (test/long/onnx-sweep.test.ts); its refusal comes before any worker.
  it("refuses tolerance flags, which a sweep of distances does not use, as a bad command line", async () => {
    const refused = await tfbridge("parity", "sweep", "--runtime", "onnx", "--max-ulp", "2");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/max-ulp/);
  });
});

describe("bad input to convert --to onnx: typed errors, nothing written", () => {
  it("an op tf2onnx cannot convert is named with its layer (exit 2)", { timeout: 120_000 }, async () => {
    const out = join(dir, "text-out");
    const run = await tfbridge("convert", join(dir, "text.keras"), out, "--to", "onnx");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/ModelError: tf2onnx 1\.17\.0 has no ONNX conversion for: .*(StaticRegexReplace|StringLower).*layer tokens/);
    expect(existsSync(out)).toBe(false);
    await expect(convertModelToOnnx(join(dir, "text.keras"), out, { bridge: bridge() })).rejects.toMatchObject({ name: "ModelError", details: { layer: "tokens" } });
    expect(existsSync(out)).toBe(false);
  });

  it("an opset out of tf2onnx's range is a ModelError naming it from the worker; the CLI refuses it before one starts (exit 2)", { timeout: 120_000 }, async () => {
    const out = join(dir, "opset-out");
    const refused = await convertModelToOnnx(join(dir, "lstm.keras"), out, { bridge: bridge(), opset: 30 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ModelError);
    expect((refused as Error).message).toMatch(/opset 30: tf2onnx 1\.17\.0 writes opsets 7 to 18/);
    const run = await tfbridge("convert", join(dir, "lstm.keras"), out, "--to", "onnx", "--opset", "30");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^tfbridge convert: --opset must be an integer from 7 to 18, got "30"$/m);
    const parity = await tfbridge("parity", "model", join(dir, "lstm.keras"), "--runtime", "onnx", "--opset", "6");
    expect(parity.code).toBe(2);
    expect(parity.stderr).toMatch(/^tfbridge parity: --opset must be an integer from 7 to 18, got "6"$/m);
    expect(existsSync(out)).toBe(false);
  });

  it("a conversion onnxruntime cannot run is a ConvertError (exit 2), nothing written and no onnxruntime log on stderr", { timeout: 120_000 }, async () => {
    const out = join(dir, "crop-out");
    const run = await tfbridge("convert", join(dir, "crop.keras"), out, "--to", "onnx");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/ConvertError: the per-layer ONNX graph: onnxruntime-node could not run it: .*Reshape/);
    expect(run.stderr).not.toMatch(/\[[WE]:onnxruntime/);
    expect(existsSync(out)).toBe(false);
  });

  it("a file onnxruntime refuses is a ConvertError naming it, on both runtimes", async () => {
    const bad = join(dir, "bad.onnx");
    writeFileSync(bad, Buffer.from("not a protobuf at all"));
    for (const runtime of ["onnxruntime-node", "onnxruntime-web"] as const) {
      await expect(OnnxModel.load(runtime, bad)).rejects.toThrow(ConvertError);
      await expect(OnnxModel.load(runtime, bad)).rejects.toThrow(new RegExp(`bad\\.onnx: ${runtime} refuses this ONNX model`));
    }
  });

  it("flags that do not fit --to onnx are a bad command line", async () => {
    for (const args of [["--to", "tflite"], ["--to", "onnx", "--max-ulp", "3"], ["--to", "onnx", "--saved-model"], ["--opset", "17"]]) {
      const run = await tfbridge("convert", join(dir, "lstm.keras"), join(dir, "flags-out"), ...args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(/--to|--max-ulp|--saved-model|--opset/);
    }
    expect(existsSync(join(dir, "flags-out"))).toBe(false);
  });
});

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TfjsUnsupportedModelError, convertModel, input, layers, model, ndarray } from "../../src/index.js";
import type { KerasModelConfig } from "../../src/models/config.js";
import { runModelParity } from "../../src/parity/model-parity.js";
import { randomWeights } from "../../src/parity/model-sweep.js";
import { sharedBridge } from "../helpers.js";

const bridge = sharedBridge();
const dir = mkdtempSync(join(tmpdir(), "tfbridge-attention-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A model of attention_models.py, as Keras writes its config; also saved (with inputs) in `dir` as NAME.keras and NAME.npz. */
const kerasModel = (name: string): KerasModelConfig =>
  JSON.parse(execFileSync(".venv/bin/python", ["test/parity/attention_models.py", name, dir], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as KerasModelConfig;

/** Token ids with trailing padding (0) in rows 1 and 2, and positions 0…11. */
const TOKENS = ndarray("int32", [3, 12], Int32Array.from({ length: 36 }, (_, i) => (i >= 12 && i % 12 >= 8 + Math.floor(i / 12) ? 0 : 1 + ((i * 7) % 49))));
const POSITIONS = ndarray("int32", [3, 12], Int32Array.from({ length: 36 }, (_, i) => i % 12));

/** Every layer exact or explained by its cause, the JS CPU backend within 1e-5, the model's outputs passing. */
function expectParity(report: Awaited<ReturnType<typeof runModelParity>>): void {
  for (const layer of report.layers) {
    expect(layer.pass, `${layer.name}: ${layer.reason}`).toBe(true);
    expect(["exact", "explained"]).toContain(layer.verdict);
    if (!layer.exact) expect(layer.reason).toMatch(/^oneDNN: |inherits/);
  }
  expect(report.cpuWorstAbsError).toBeLessThanOrEqual(1e-5);
  for (const output of report.modelOutputs) expect(output.pass, `${output.name}: ${output.reason}`).toBe(true);
  expect(report.passed).toBe(true);
}

describe("attention models through whole-model parity (Session vs tfjs-node vs JS CPU, per layer)", () => {
  it("keras.io's Transformer text classifier: every layer exact or explained, and convert writes a model stock TF.js runs as Keras does", { timeout: 300_000 }, async () => {
    const config = kerasModel("transformer");
    await using probe = await bridge().model(config, { seed: 1 });
    await using handle = await bridge().model(config, { weights: randomWeights(probe.info, 1) });
    expect(handle.tfjs).toEqual({ supported: true });
    const report = await runModelParity(handle, { inputs: [TOKENS, POSITIONS] });
    expect(report.layers.some((l) => l.class === "MultiHeadAttention")).toBe(true);
    expectParity(report);

    const result = await convertModel(join(dir, "transformer.keras"), join(dir, "transformer"), { bridge: bridge(), inputs: join(dir, "transformer.npz") });
    expect(result.ok).toBe(true);
    expect(result.customLayers).toContain("TfbridgeMultiHeadAttention");
  });

  it("the same Transformer with padding masks (Embedding mask_zero): parity passes, and convert too (self-attention: one tensor, one mask)", { timeout: 300_000 }, async () => {
    const config = kerasModel("transformer-masked");
    await using probe = await bridge().model(config, { seed: 2 });
    await using handle = await bridge().model(config, { weights: randomWeights(probe.info, 2) });
    expectParity(await runModelParity(handle, { inputs: [TOKENS, POSITIONS] }));
    const result = await convertModel(join(dir, "transformer-masked.keras"), join(dir, "masked"), { bridge: bridge(), inputs: join(dir, "transformer-masked.npz") });
    expect(result.ok).toBe(true);
  });

  it("cross-attention whose value carries another mask: parity passes; convert refuses it by layer, since TF.js's predict passes a layer only its first input's mask", { timeout: 300_000 }, async () => {
    const config = kerasModel("masked-cross-attention");
    await using handle = await bridge().model(config, { seed: 5 });
    expectParity(await runModelParity(handle, { inputs: [TOKENS, ndarray("int32", [3, 12], Int32Array.from(TOKENS.data as Int32Array).reverse())] }));
    const error = await convertModel(join(dir, "masked-cross-attention.keras"), join(dir, "cross"), { bridge: bridge(), inputs: join(dir, "masked-cross-attention.npz") }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TfjsUnsupportedModelError);
    expect((error as TfjsUnsupportedModelError).reasons.map((r) => r.layer)).toEqual(["multi_head_attention"]);
  });

  it("a decoder block: causal self-attention, cross-attention with its scores as an output, Attention and AdditiveAttention", { timeout: 300_000 }, async () => {
    const config = kerasModel("decoder");
    await using probe = await bridge().model(config, { seed: 3 });
    await using handle = await bridge().model(config, { weights: randomWeights(probe.info, 3) });
    const report = await runModelParity(handle, { batch: 3 });
    expect(report.layers.map((l) => l.name)).toContain("cross_attention:1");
    expectParity(report);
  });

  it("attention described in TypeScript with the builder: Keras builds the same calls, and the twin agrees", { timeout: 300_000 }, async () => {
    const target = input({ shape: [5, 6], name: "target" });
    const source = input({ shape: [7, 4], name: "source" });
    const allowed = input({ shape: [5, 7], dtype: "int32", name: "allowed" });
    const self = layers.multiHeadAttention({ numHeads: 2, keyDim: 3, name: "self_attention" }).apply(target, { value: target, useCausalMask: true });
    const [cross, scores] = layers.multiHeadAttention({ numHeads: 2, keyDim: 3, outputShape: [6], name: "cross" }).applyAll(self, { value: source, key: source, attentionMask: allowed, returnAttentionScores: true });
    const luong = layers.attention({ scoreMode: "concat", useScale: true }).apply([cross!, self], { useCausalMask: true });
    const config = model({ inputs: [target, source, allowed], outputs: [layers.additiveAttention().apply([luong, cross!]), scores!] });
    await using handle = await bridge().model(config, { seed: 6 });
    expect(handle.tfjs).toEqual({ supported: true });
    expect(handle.layers.map((l) => l.name)).toContain("cross:1");
    const mask = ndarray("int32", [2, 5, 7], Int32Array.from({ length: 70 }, (_, i) => (i % 3 === 0 ? 0 : 1)));
    const floats = (shape: number[]) => ndarray("float32", shape, Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(i * 0.7)));
    expectParity(await runModelParity(handle, { inputs: [floats([2, 5, 6]), floats([2, 7, 4]), mask] }));
  });

  it("masked Attention into an LSTM: Keras's convert_to_tensor mask node is mask bookkeeping on both sides (regression: the twin refused it, the walk listed it)", { timeout: 300_000 }, async () => {
    const config = kerasModel("masked-attention-lstm");
    expect(config.config.layers.some((l) => l.class_name === "ConvertToTensor")).toBe(true);
    await using handle = await bridge().model(config, { seed: 7 });
    expect(handle.tfjs).toEqual({ supported: true });
    expect(handle.layers.map((l) => l.name)).not.toContain("convert_to_tensor");
    expectParity(await runModelParity(handle, { inputs: [TOKENS] }));
  });

  it("a masked residual encoder block: the pooling computes under the mask Keras recorded for it", { timeout: 300_000 }, async () => {
    const config = kerasModel("masked-residual");
    await using handle = await bridge().model(config, { seed: 8 });
    expectParity(await runModelParity(handle, { inputs: [TOKENS] }));
  });
});

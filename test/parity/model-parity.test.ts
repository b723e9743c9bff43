import { describe, expect, it } from "vitest";
import { Bridge, type NDArray, input, layers, model, ndarray, sequential } from "../../src/index.js";
import type { TfjsModel } from "../../src/entry/parity.js";
import { runModelParity } from "../../src/parity/model-parity.js";
import { randomWeights, runModelSweep } from "../../src/parity/model-sweep.js";
import { REFERENCE_MODELS } from "../../src/parity/reference-models.js";
import { sharedBridge } from "../helpers.js";
import { expectBitForBitWithOnednnOff } from "./onednn-control.js";

const bridge = sharedBridge();

describe("per-layer parity on the reference models", () => {
  it.each(Object.keys(REFERENCE_MODELS))("%s: tfjs-node bit-exact or explained on every layer, JS CPU within 1e-5", async (name) => {
    const config = REFERENCE_MODELS[name]!();
    await using probe = await bridge().model(config, { seed: 1 });
    await using handle = await bridge().model(config, { weights: randomWeights(probe.info, 1) });
    const report = await runModelParity(handle, { batch: 3 });
    expect(report.layers.map((l) => l.name)).toEqual(handle.layers.map((l) => l.name));
    for (const layer of report.layers) {
      expect(layer.pass, `${layer.name}: ${layer.reason}`).toBe(true);
      if (!layer.exact) expect(layer.reason).toMatch(/^oneDNN: |Grappler|inherits|erfc/);
      expect(["exact", "explained"]).toContain(layer.verdict);
    }
    expect(report.cpuWorstAbsError).toBeLessThanOrEqual(1e-5);
    for (const output of report.modelOutputs) expect(output.pass, `${output.name}: ${output.reason}`).toBe(true);
    expect(report.passed).toBe(true);
  });
});

describe("regressions found by the model sweep", () => {
  it("an unnamed Concatenate of masked tensors builds: the builder does not take the name Keras gives its mask op (random-0-55)", async () => {
    const ids = input({ shape: [5], dtype: "int32", name: "ids" });
    const embedded = layers.embedding({ inputDim: 10, outputDim: 3, maskZero: true }).apply(ids);
    const joined = layers.concatenate().apply([embedded, layers.dense({ units: 2 }).apply(embedded)]);
    const config = model({ inputs: ids, outputs: layers.dense({ units: 1 }).apply(layers.globalAveragePooling1d().apply(joined)) });
    expect(config.config.layers.map((l) => l.config.name)).toContain("concatenate_layer");
    await using handle = await bridge().model(config, { seed: 5 });
    expect(handle.tfjs).toEqual({ supported: true });
  });


  it("a mask on one branch does not reach a layer on another (TF.js's executors leak it)", async () => {
    const a = input({ shape: [4, 3], name: "masked" });
    const b = input({ shape: [2, 5], name: "plain" });
    const left = layers.lstm({ units: 3 }).apply(layers.simpleRnn({ units: 2, returnSequences: true }).apply(layers.masking().apply(a)));
    const right = layers.bidirectional({ layer: layers.simpleRnn({ units: 2 }), mergeMode: "ave" }).apply(layers.lstm({ units: 4, returnSequences: true }).apply(b));
    const config = model({ inputs: [a, b], outputs: layers.dense({ units: 2 }).apply(layers.concatenate().apply([left, right])) });
    await using handle = await bridge().model(config, { seed: 2 });
    // Rows 1 and 2 of `masked` end in masked steps; `plain` has no mask at all.
    const masked = ndarray("float32", [3, 4, 3], Float32Array.from({ length: 36 }, (_, i) => (i >= 12 && i % 12 >= 6 ? 0 : Math.sin(i + 1))));
    const plain = ndarray("float32", [3, 2, 5], Float32Array.from({ length: 30 }, (_, i) => Math.cos(i)));
    const report = await runModelParity(handle, { inputs: [masked, plain], skipCpu: true });
    const bidirectional = report.layers.find((l) => l.class === "Bidirectional")!;
    expect(bidirectional.worstUlpTfjsNode).toBe(0);
    expect(report.passed).toBe(true);
  });

  it("masks through merges, pooling and Flatten follow Keras 3 (TF.js: extra mask axis, masked Maximum/Multiply ignored, no Subtract)", async () => {
    const ids = input({ shape: [6], dtype: "int32", name: "ids" });
    const embedded = layers.embedding({ inputDim: 12, outputDim: 4, maskZero: true }).apply(ids);
    const dense = layers.dense({ units: 3, activation: "tanh" }).apply(embedded);
    const recurrent = layers.simpleRnn({ units: 3, returnSequences: true }).apply(embedded);
    const merged = [layers.maximum(), layers.multiply(), layers.subtract(), layers.add()].map((m) => m.apply([dense, recurrent]));
    const gru = layers.gru({ units: 2 }).apply(merged[0]!);
    const pooled = layers.globalAveragePooling1d().apply(merged[1]!);
    const flat = layers.flatten().apply(merged[2]!);
    // Named: Keras 3 names the mask op a masked Concatenate creates "concatenate", clashing with a layer of that name.
    const lstm = layers.lstm({ units: 2 }).apply(layers.concatenate({ name: "joined" }).apply([merged[3]!, embedded]));
    const config = model({ inputs: ids, outputs: layers.concatenate({ name: "heads" }).apply([gru, pooled, flat, lstm]) });
    await using probe = await bridge().model(config, { seed: 4 });
    await using handle = await bridge().model(config, { weights: randomWeights(probe.info, 4) });
    // Rows 1 and 2 end in padding (id 0), so every merge and pooling layer sees a mask.
    const padded = ndarray("int32", [3, 6], Int32Array.of(3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 0, 0, 9, 10, 11, 0, 0, 0));
    const report = await runModelParity(handle, { inputs: [padded], skipCpu: true });
    for (const layer of report.layers) expect(layer.pass, `${layer.name}: ${layer.reason}`).toBe(true);
    for (const cls of ["Maximum", "Multiply", "Subtract", "Add", "GlobalAveragePooling1D", "Flatten", "GRU"]) {
      const layer = report.layers.find((l) => l.class === cls)!;
      expect(layer.exact || layer.cause === "grappler" || layer.cause === "onednn", `${cls}: ${layer.reason}`).toBe(true);
    }
  });

  it("an RNN's states carry no mask (Keras): a Maximum over h and c under an upstream mask computes unmasked", async () => {
    const ids = input({ shape: [6], dtype: "int32", name: "ids" });
    const [, h, c] = layers.lstm({ units: 4, returnSequences: true, returnState: true }).applyAll(layers.embedding({ inputDim: 12, outputDim: 3, maskZero: true }).apply(ids));
    const config = model({ inputs: ids, outputs: layers.dense({ units: 2 }).apply(layers.maximum().apply([h!, c!])) });
    await using handle = await bridge().model(config, { seed: 4 });
    const report = await runModelParity(handle, { inputs: [ndarray("int32", [2, 6], Int32Array.of(3, 4, 5, 0, 0, 0, 1, 2, 3, 4, 5, 6))], skipCpu: true });
    for (const layer of report.layers) expect(layer.pass, `${layer.name}: ${layer.reason}`).toBe(true);
    expect(report.passed).toBe(true);
  });

  it("LayerNormalization and BatchNormalization are bit-exact on tfjs-node (TF.js's own order is up to 64 ULP off)", async () => {
    const config = sequential({ inputShape: [5, 6], layers: [layers.layerNormalization(), layers.batchNormalization(), layers.layerNormalization({ axis: [1, 2], center: false })] });
    await using probe = await bridge().model(config, { seed: 3 });
    await using handle = await bridge().model(config, { weights: randomWeights(probe.info, 3) });
    const report = await runModelParity(handle, { batch: 4, skipCpu: true });
    expect(report.layers.map((l) => [l.class, l.worstUlpTfjsNode])).toEqual([["LayerNormalization", 0], ["BatchNormalization", 0], ["LayerNormalization", 0]]);
  });
});

describe("oneDNN: verdicts that hold on every x86 CPU", () => {
  // A softmax head over an LSTM: on AVX-512 CPUs oneDNN's kernels move the Session's softmax by a few ULP.
  const config = () => sequential({ inputShape: [7, 3], layers: [layers.lstm({ units: 6, returnSequences: true }), layers.timeDistributed({ layer: layers.dense({ units: 5, activation: "softmax" }) })] });

  it("with oneDNN forced on in the worker, every difference is explained by its cause and the report says so", { timeout: 180_000 }, async () => {
    await using forced = await Bridge.start({ env: { TF_ENABLE_ONEDNN_OPTS: "1" } });
    await using handle = await forced.model(config(), { seed: 5 });
    const report = await runModelParity(handle, { batch: 4, skipCpu: true });
    expect(report.environment.python.onednn).toEqual({ enabled: true, env: "1" });
    expect(report.environment.python.cpu.isa.length).toBeGreaterThan(0);
    expect(report.passed).toBe(true);
    for (const layer of report.layers.filter((l) => !l.exact && l.inputsExact)) {
      expect(["onednn", "grappler", "graph", "bound"], `${layer.name}: ${layer.reason}`).toContain(layer.cause);
      if (layer.cause === "onednn") {
        expect(layer.reproducedBy[0]).toBe("onednn-off");
        expect(layer.reason).toMatch(/move this layer by \d+ ULP, max abs/);
      }
    }
  });

  it("the control itself, on any CPU: oneDNN off in a second worker and a second tfjs-node, where the two agree bit for bit", { timeout: 180_000 }, async () => {
    await expectBitForBitWithOnednnOff(bridge(), config(), { seed: 5, rows: 4 });
  });

  it("with oneDNN off in the worker, what tfjs-node's own oneDNN changes is explained by the control", { timeout: 180_000 }, async () => {
    await using off = await Bridge.start({ env: { TF_ENABLE_ONEDNN_OPTS: "0" } });
    await using handle = await off.model(config(), { seed: 5 });
    const report = await runModelParity(handle, { batch: 4, skipCpu: true });
    expect(report.environment.python.onednn).toEqual({ enabled: false, env: "0" });
    for (const layer of report.layers) expect(layer.exact || (layer.verdict === "explained" && ["onednn", "inherited"].includes(layer.cause)), `${layer.name}: ${layer.reason}`).toBe(true);
    expect(report.passed).toBe(true);
  });

  it("a stated tolerance passes what is left unexplained only when it is wide enough", { timeout: 180_000 }, async () => {
    // A "twin" that returns the Session's own outputs with the last layer one float step off on its first
    // element: a difference no run explains, on any CPU.
    await using handle = await bridge().model(config(), { seed: 5 });
    const nudged = async () =>
      ({
        predict: async (inputs: NDArray[]) => {
          const session = await handle.predict(inputs, { outputs: "layers" });
          const outputs = session.names.map((n) => ndarray("float32", [...session.outputs[n]!.shape], Float32Array.from(session.outputs[n]!.data as Float32Array)));
          new Int32Array((outputs.at(-1)!.data as Float32Array).buffer, 0, 1)[0]! += 1;
          return outputs;
        },
        dispose: async () => {},
      }) as unknown as TfjsModel;
    const run = (tolerance?: { maxUlp: number }) => runModelParity(handle, { batch: 4, skipCpu: true, onednnOff: false, twin: nudged, tolerance });
    const strict = await run();
    expect(strict.layers.at(-1)).toMatchObject({ verdict: "fail", cause: "unexplained", pass: false });
    expect(strict.passed).toBe(false);
    const stated = await run({ maxUlp: 1 });
    expect(stated.tolerance).toEqual({ maxUlp: 1 });
    expect(stated.layers.at(-1)!.verdict).toBe("within-tolerance");
    expect(stated.layers.at(-1)!.reason).toMatch(/within the stated tolerance \(max ULP 1\)/);
    expect(stated.verdicts.fail).toBe(0);
    expect(stated.passed).toBe(true);
    expect((await run({ maxUlp: 0 })).passed).toBe(false);
  });

  it("a JS CPU backend past its tolerance is a fail verdict, whatever tfjs-node's", { timeout: 180_000 }, async () => {
    // tfjs-node exact (the Session's own outputs), the CPU backend 1e-3 off on the last layer.
    await using handle = await bridge().model(config(), { seed: 5 });
    const twin = async (backend: "tensorflow" | "cpu") =>
      ({
        predict: async (inputs: NDArray[]) => {
          const session = await handle.predict(inputs, { outputs: "layers" });
          const outputs = session.names.map((n) => ndarray("float32", [...session.outputs[n]!.shape], Float32Array.from(session.outputs[n]!.data as Float32Array)));
          if (backend === "cpu") (outputs.at(-1)!.data as Float32Array)[0]! += 1e-3;
          return outputs;
        },
        dispose: async () => {},
      }) as unknown as TfjsModel;
    const report = await runModelParity(handle, { batch: 4, onednnOff: false, twin });
    const last = report.layers.at(-1)!;
    expect(last).toMatchObject({ exact: true, verdict: "fail", pass: false });
    expect(last.reason).toMatch(/^JS CPU backend: max abs 1\.00e-3 beyond 0\.00001/);
    expect(report.verdicts.fail).toBe(1);
    expect(report.firstDivergentLayer).toBe(last.layer);
    expect(report.passed).toBe(false);
  });
});

describe("the model sweep", () => {
  it("random architectures over the layer set pass, each layer exact or explained", async () => {
    const summary = await runModelSweep(bridge(), { count: 5, seed: 11, references: false });
    expect(summary.models).toBe(5);
    expect(summary.failures).toEqual([]);
    expect(summary.layerTypes.length).toBeGreaterThan(6);
    expect(summary.reports.every((r) => r.cpuWorstAbsError !== null)).toBe(true);
  }, 600_000);
});

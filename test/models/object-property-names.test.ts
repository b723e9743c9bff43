import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ModelError } from "../../src/errors.js";
import { BadBodyError, readPredictBody } from "../../src/http/tensors.js";
import { SpecError, input, layers, model, ndarray, resolveLstmSpec } from "../../src/index.js";
import { npzModelInputs } from "../../src/models/npz-inputs.js";
import { checkModelConfig, maskOnlyOperations } from "../../src/models/schema.js";
import { boundFor } from "../../src/parity/layer-bounds.js";
import { kerasCustomActivation, kerasCustomClass, registerKerasLayers } from "../../src/tfjs-layers/index.js";
import { loadTfjs } from "../../src/tfjs/runtime.js";
import { tfjsTensorKey } from "../../src/tfjs/topology.js";
import { sharedBridge } from "../helpers.js";

// Names every JavaScript object answers to (`constructor`, `toString`, …) arrive from model files, spec
// files, HTTP bodies and TF.js model.json files. Each lookup below once found Object.prototype's member
// where the name is unknown, and took a function for a table entry. (The schema's own refusals of such
// names are conformance cases in protocol/layers-cases.json, which the Python half runs too.)

const sequential = (layer: unknown) => ({
  class_name: "Sequential",
  config: { name: "m", layers: [{ class_name: "InputLayer", config: { name: "in", batch_shape: [null, 6, 4] } }, layer] },
});

describe("names every JavaScript object has are unknown names, not Object.prototype's members", () => {
  it("a layer's module: no mask-op class there (was a TypeError out of maskOnlyOperations)", () => {
    const model = checkModelConfig(sequential({ class_name: "Dense", module: "constructor", config: { name: "d", units: 3 } }));
    expect(maskOnlyOperations(model).size).toBe(0);
  });

  it("a layer class: refused for having no twin, with that reason (was Object's source text)", () => {
    let error: unknown;
    try {
      checkModelConfig(sequential({ class_name: "constructor", config: { name: "c" } }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelError);
    expect((error as Error).message).not.toContain("native code");
  });

  it("an LSTM spec field (was accepted)", () => {
    expect(() => resolveLstmSpec({ units: 4, inputShape: [3, 2], toString: 1 })).toThrow(SpecError);
    expect(() => resolveLstmSpec({ units: 4, inputShape: [3, 2], toString: 1 })).toThrow(/toString: is not a spec field/);
  });

  it("a model input a predict row leaves out (was read as the row's toString)", () => {
    const specs = [
      { name: "x", dtype: "float32" as const, shape: [null, 1] },
      { name: "toString", dtype: "float32" as const, shape: [null, 1] },
    ];
    expect(() => readPredictBody({ instances: [{ x: [1] }] }, specs)).toThrow(BadBodyError);
    expect(() => readPredictBody({ instances: [{ x: [1] }] }, specs)).toThrow("instances[0] must be an object with input toString");
  });

  it("the TF.js twin's tables: activations, classes, parity bounds (each returned a function)", () => {
    expect(kerasCustomActivation("toString")).toBeNull();
    expect(kerasCustomClass("constructor", {})).toBeNull();
    expect(boundFor({ class_name: "Dense", config: { name: "d", activation: "toString" } })).toBeNull();
  });

  it("a TF.js model.json operation's compute: an unknown computation (was taken as a unary op)", async () => {
    const tf = await loadTfjs();
    const { TfbridgeOperation } = registerKerasLayers(tf);
    expect(() => new TfbridgeOperation({ name: "op", compute: "toString", template: [{ input: 0 }] })).toThrow(/unknown computation toString/);
  });

  it("the twin's key of a worker tensor named toString (was Object's function)", () => {
    expect(tfjsTensorKey("toString", {})).toBe("toString");
  });
});

describe("a model whose layers and inputs carry such names, in a real worker", () => {
  const bridge = sharedBridge();
  const dir = mkdtempSync(join(tmpdir(), "tfbridge-object-names-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const build = () => {
    const a = input({ shape: [2], name: "toString" });
    const b = input({ shape: [2], name: "x" });
    return model({ inputs: [a, b], outputs: layers.dense({ units: 2, name: "constructor" }).apply(layers.add().apply([a, b])), name: "names" });
  };
  const x = ndarray("float32", [1, 2], Float32Array.from([1, 2]));

  it("weights() keeps a layer named constructor (was a TypeError: push is not a function)", async () => {
    await using handle = await bridge().model(build(), { seed: 1 });
    const weights = await handle.weights();
    expect(Object.keys(weights)).toEqual(["constructor"]);
    expect(weights.constructor).toHaveLength(2);
  });

  it("an input named toString left out is missing (was 'must be an NDArray')", async () => {
    await using handle = await bridge().model(build(), { seed: 1 });
    await expect(handle.predict({ x })).rejects.toThrow(/input toString is missing/);
  });

  it("an .npz of arr_0 feeds a lone input named constructor by position (was taken as found by name)", async () => {
    const file = join(dir, "positional.npz");
    execFileSync(join(import.meta.dirname, "../../.venv/bin/python"), ["-c", `import numpy as np; np.savez(${JSON.stringify(file)}, np.ones((1, 2), "float32"))`]);
    const a = input({ shape: [2], name: "constructor" });
    await using handle = await bridge().model(model({ inputs: [a], outputs: layers.dense({ units: 1, name: "d" }).apply(a), name: "positional" }), { seed: 1 });
    const inputs = await npzModelInputs(bridge(), handle, file);
    expect(inputs.map((i) => Array.from(i.data as Float32Array))).toEqual([[1, 1]]);
  });
});

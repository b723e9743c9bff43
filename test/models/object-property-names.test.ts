import { describe, expect, it } from "vitest";
import { ModelError } from "../../src/errors.js";
import { BadBodyError, readPredictBody } from "../../src/http/tensors.js";
import { SpecError, resolveLstmSpec } from "../../src/index.js";
import { checkModelConfig, maskOnlyOperations } from "../../src/models/schema.js";
import { boundFor } from "../../src/parity/layer-bounds.js";
import { kerasCustomActivation, kerasCustomClass, registerKerasLayers } from "../../src/tfjs-layers/index.js";
import { loadTfjs } from "../../src/tfjs/runtime.js";

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
});

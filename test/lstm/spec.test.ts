import { describe, expect, it } from "vitest";
import { SpecError, zeros } from "../../src/index.js";
import { LSTM_FIELDS, checkLstmInput, checkLstmWeights, lstmWeightShapes, resolveLstmSpec } from "../../src/lstm/spec.js";

const minimal = { units: 4, inputShape: [10, 3] as [number, number] };

function specError(run: () => unknown): SpecError {
  try {
    run();
  } catch (e) {
    if (e instanceof SpecError) return e;
    throw e;
  }
  throw new Error("no SpecError thrown");
}

describe("resolveLstmSpec", () => {
  it("makes every default explicit, with Keras's values", () => {
    const r = resolveLstmSpec(minimal);
    expect(Object.keys(r).sort()).toEqual(Object.keys(LSTM_FIELDS).sort());
    expect(r).toMatchObject({ recurrentActivation: "sigmoid", unitForgetBias: true, kernelInitializer: "glorot_uniform", activation: "tanh" });
  });

  it.each([
    [{ inputShape: [10, 3] }, "units", /is required/],
    [{ ...minimal, units: 0 }, "units", /between 1 and 4096/],
    [{ ...minimal, units: 1.5 }, "units", /integer/],
    [{ ...minimal, units: NaN }, "units", /integer, got NaN$/],
    [{ ...minimal, units: Infinity }, "units", /integer, got Infinity$/],
    [{ ...minimal, inputShape: [10, -Infinity] }, "inputShape[1]", /integer, got -Infinity$/],
    [{ ...minimal, inputShape: [10] }, "inputShape", /list of 2 integers/],
    [{ ...minimal, inputShape: [0, 3] }, "inputShape[0]", /between 1/],
    [{ ...minimal, activation: "gelu" }, "activation", /one of tanh/],
    [{ ...minimal, goBackwards: 1 }, "goBackwards", /true or false/],
    [{ ...minimal, unit: 4 }, "unit", /not a spec field/],
  ])("names the bad field (%#)", (spec, field, reason) => {
    const e = specError(() => resolveLstmSpec(spec));
    expect(e.field).toBe(field);
    expect(e.reason).toMatch(reason);
    expect(e.fromWorker).toBe(false);
  });

  it("refuses what is not an object", () => {
    expect(specError(() => resolveLstmSpec(null)).field).toBe("spec");
  });
});

describe("weights and input", () => {
  const spec = resolveLstmSpec(minimal);
  const good = { kernel: zeros("float32", [3, 16]), recurrentKernel: zeros("float32", [4, 16]), bias: zeros("float32", [16]) };

  it("follow the gate layout [features, 4u], [u, 4u], [4u]", () => {
    expect(lstmWeightShapes(spec)).toEqual({ kernel: [3, 16], recurrentKernel: [4, 16], bias: [16] });
    expect(() => checkLstmWeights(spec, good)).not.toThrow();
  });

  it("name the weight that is wrong", () => {
    expect(specError(() => checkLstmWeights(spec, { ...good, kernel: zeros("float32", [16, 3]) })).field).toBe("weights.kernel");
    expect(specError(() => checkLstmWeights(spec, { kernel: good.kernel, recurrentKernel: good.recurrentKernel })).reason).toMatch(/missing/);
    const noBias = resolveLstmSpec({ ...minimal, useBias: false });
    expect(specError(() => checkLstmWeights(noBias, good)).reason).toMatch(/not used when useBias is false/);
    expect(specError(() => checkLstmWeights(spec, { ...good, bias: zeros("float64", [16]) })).reason).toMatch(/must be float32/);
  });

  it("checks the input's shape and dtype", () => {
    expect(specError(() => checkLstmInput(spec, zeros("float32", [2, 10, 4]))).reason).toMatch(/\[batch, 10, 3\]/);
    expect(specError(() => checkLstmInput(spec, zeros("int32", [2, 10, 3]))).reason).toMatch(/must be float32/);
  });
});

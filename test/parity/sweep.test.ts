import { describe, expect, it } from "vitest";
import { resolveLstmSpec } from "../../src/lstm/spec.js";
import { sweepCases } from "../../src/parity/sweep.js";

describe("the sweep's matrix", () => {
  const cases = sweepCases();
  const specs = cases.map((c) => resolveLstmSpec(c.spec));
  const range = (xs: number[]) => [Math.min(...xs), Math.max(...xs)];

  it("has at least 60 valid specs spanning the sizes the issue names", () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(range(specs.map((s) => s.units))).toEqual([1, 128]);
    expect(range(specs.map((s) => s.inputShape[0]))).toEqual([1, 200]);
    expect(range(specs.map((s) => s.inputShape[1]))).toEqual([1, 64]);
    expect(range(cases.map((c) => c.batch))).toEqual([1, 32]);
  });

  it("turns every flag on and off and uses every activation", () => {
    for (const flag of ["returnSequences", "returnState", "goBackwards", "useBias", "unitForgetBias"] as const) {
      expect(new Set(specs.map((s) => s[flag]))).toEqual(new Set([true, false]));
    }
    expect(new Set(specs.map((s) => s.activation))).toEqual(new Set(["tanh", "relu", "sigmoid", "linear", "hard_sigmoid"]));
    expect(new Set(specs.map((s) => s.recurrentActivation))).toEqual(new Set(["sigmoid", "hard_sigmoid"]));
  });
});

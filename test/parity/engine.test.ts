import { describe, expect, it } from "vitest";
import type { LstmSpec } from "../../src/index.js";
import { runParity } from "../../src/parity/engine.js";
import { formatParityReport } from "../../src/parity/report.js";
import { sharedBridge } from "../helpers.js";

const bridge = sharedBridge();

describe("parity against the Python Session, same weights", () => {
  it.each<LstmSpec>([
    { units: 32, inputShape: [10, 1] },
    { units: 12, inputShape: [25, 6], returnSequences: true, returnState: true, goBackwards: true, activation: "relu" },
    { units: 5, inputShape: [8, 3], activation: "relu", recurrentActivation: "tanh", useBias: false, unitForgetBias: false },
  ])("tfjs-node is bit-identical and the JS CPU backend within 1e-5: %o", async (spec) => {
    const report = await runParity(bridge(), spec, { batch: 3 });
    expect(report.reference).toBe("session");
    expect(report.trap).toBeNull();
    const [node, cpu, graph] = report.runtimes;
    expect(report.runtimes.map((r) => r.runtime)).toEqual(["tfjs-node", "tfjs-cpu", "tfjs-node-savedmodel"]);
    for (const c of Object.values(graph!.comparisons)) expect(c.maxUlp).toBe(0);
    for (const c of Object.values(node!.comparisons)) {
      expect(c.maxUlp).toBe(0);
      expect(c.elements).toBeGreaterThan(0);
    }
    expect(Object.keys(node!.comparisons)).toEqual(spec.returnState ? ["output", "h", "c"] : ["output"]);
    for (const c of Object.values(cpu!.comparisons)) expect(c.maxAbsError).toBeLessThanOrEqual(1e-5);
    expect(report.pass).toBe(true);
  });

  it("fails when a tolerance is tighter than what a runtime achieves", async () => {
    const spec: LstmSpec = { units: 16, inputShape: [20, 4], returnSequences: true };
    const report = await runParity(bridge(), spec, { runtimes: ["tfjs-cpu"], tolerance: { "tfjs-cpu": { atol: 0, rtol: 0 } } });
    expect(report.pass).toBe(false);
    const c = report.runtimes[0]!.comparisons.output!;
    expect(c.outside).toBeGreaterThan(0);
    expect(c.firstBadTimestep).not.toBeNull();
    expect(formatParityReport(report)).toMatch(/verdict: FAIL/);
  });
});

describe("the hard_sigmoid trap", () => {
  it("is flagged, explained, compared with the matching formula, and then exact", async () => {
    const spec: LstmSpec = { units: 16, inputShape: [20, 4], recurrentActivation: "hard_sigmoid", returnSequences: true };
    const report = await runParity(bridge(), spec);
    expect(report.reference).toBe("eager");
    expect(report.trap!.traps.map((t) => [t.id, t.fields])).toEqual([["hard_sigmoid", ["recurrentActivation"]]]);
    expect(report.trap!.traps[0]!.reason).toMatch(/relu6\(x \+ 3\) \/ 6.*clip\(0\.2·x \+ 0\.5/);
    expect(report.runtimes[0]!.comparisons.output!.maxUlp).toBe(0);
    // Measured, not assumed: the Session's graph optimizer reorders the arithmetic, and TF.js's own
    // hardSigmoid is another function altogether.
    expect(report.trap!.sessionVsEager.maxUlp).toBeGreaterThan(0);
    expect(report.trap!.naiveTfjs!.maxAbsError).toBeGreaterThan(1e-3);
    expect(report.pass).toBe(true);
    expect(formatParityReport(report)).toMatch(/known trap:\n {2}hard_sigmoid \(recurrentActivation=hard_sigmoid\)/);
  });
});

describe("the hoisted-sigmoid trap", () => {
  it("activation and recurrentActivation both sigmoid: the Session differs from eager, TF.js matches eager", async () => {
    // batch·units = 15, not a multiple of the SIMD packet width, so the hoisted Sigmoid has other tail elements.
    const spec: LstmSpec = { units: 5, inputShape: [8, 3], activation: "sigmoid", recurrentActivation: "sigmoid", returnSequences: true };
    const report = await runParity(bridge(), spec, { batch: 3, inputSeed: 1 });
    expect(report.trap!.traps.map((t) => t.id)).toEqual(["hoisted_sigmoid"]);
    expect(report.trap!.traps[0]!.reason).toMatch(/HoistCWiseUnaryChains/);
    expect(report.trap!.sessionVsEager.maxUlp).toBeGreaterThan(0);
    expect(report.trap!.naiveTfjs).toBeNull();
    expect(report.runtimes[0]!.comparisons.output!.maxUlp).toBe(0);
    // The SavedModel is a graph that Grappler rewrites like the Session's: it matches the Session itself.
    const graph = report.runtimes.find((r) => r.runtime === "tfjs-node-savedmodel")!;
    expect(graph.reference).toBe("session");
    expect(graph.comparisons.output!.maxUlp).toBe(0);
    expect(report.pass).toBe(true);
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type LayerEvidence, judge } from "../../src/parity/verdict.js";
import { type NDArray, ndarray } from "../../src/wire/ndarray.js";

/** The AVX-512 case recorded on a Xeon this machine may not be (test/parity/fixtures/onednn-softmax-avx512.json). */
const recorded = JSON.parse(readFileSync(new URL("fixtures/onednn-softmax-avx512.json", import.meta.url), "utf8")) as {
  arrays: Record<string, { shape: number[]; float32: string }>;
};
const array = (name: string): NDArray => {
  const { shape, float32 } = recorded.arrays[name]!;
  const bytes = Buffer.from(float32, "base64");
  return ndarray("float32", shape, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
};
const dense = { class_name: "Dense", config: { name: "head", units: 10, activation: "softmax" } };
const softmaxCase = (probes: LayerEvidence["probes"], extra: Partial<LayerEvidence> = {}): LayerEvidence => ({
  actual: array("tfjs_node"),
  expected: array("session_onednn_on"),
  probes,
  layerConfig: dense,
  ...extra,
});
const f32 = (values: number[]) => ndarray("float32", [values.length], Float32Array.from(values));
const nextUp = (x: number, steps = 1) => {
  const f = new Float32Array([x]);
  new Int32Array(f.buffer)[0]! += steps;
  return f[0]!;
};

describe("judging a layer output (pure: recorded arrays in, verdict out)", () => {
  it("the recording's difference is real: the Session with oneDNN on is 3 ULP (2.98e-8) from tfjs-node", () => {
    const verdict = judge(softmaxCase({}));
    expect(verdict.comparison.maxUlp).toBe(3);
    expect(verdict.comparison.maxAbsError).toBeCloseTo(2.98e-8, 9);
  });

  it("AVX-512 softmax: oneDNN off reproduces tfjs-node, so the cause is oneDNN, with the measured bound", () => {
    const verdict = judge(softmaxCase({ "onednn-off": { python: array("session_onednn_off") }, eager: { python: array("eager_onednn_on") } }));
    expect(verdict).toMatchObject({ verdict: "explained", cause: "onednn", reproducedBy: ["onednn-off"], pass: true });
    expect(verdict.reason).toMatch(/^oneDNN: .* 3 ULP, max abs 2\.98e-8; with oneDNN off in both runtimes \(TF_ENABLE_ONEDNN_OPTS=0/);
  });

  it("without the oneDNN-off run nothing explains it: eager runs oneDNN too, so it fails, naming what was tried", () => {
    const verdict = judge(softmaxCase({ eager: { python: array("eager_onednn_on") } }));
    expect(verdict).toMatchObject({ verdict: "fail", cause: "unexplained", reproducedBy: [], pass: false });
    expect(verdict.reason).toMatch(/unexplained: 3 ULP, .* the runtimes agree under none of: Python eager/);
  });

  it("a stated tolerance turns that failure into within-tolerance, and only when it is wide enough", () => {
    expect(judge(softmaxCase({}, { tolerance: { maxUlp: 3 } }))).toMatchObject({ verdict: "within-tolerance", pass: true });
    expect(judge(softmaxCase({}, { tolerance: { maxUlp: 2 } }))).toMatchObject({ verdict: "fail", pass: false });
    expect(judge(softmaxCase({}, { tolerance: { atol: 3e-8 } }))).toMatchObject({ verdict: "within-tolerance" });
    expect(judge(softmaxCase({}, { tolerance: { atol: 1e-8 } }))).toMatchObject({ verdict: "fail" });
  });

  it("a probe that reproduces tfjs-node names the cause in the order onednn-off, unoptimized, both, eager", () => {
    const x = f32([1, 2, 3]);
    const off = f32([1, 2, nextUp(3)]);
    expect(judge({ actual: x, expected: off, probes: { unoptimized: { python: x }, eager: { python: x } } })).toMatchObject({ cause: "grappler", reproducedBy: ["unoptimized", "eager"] });
    expect(judge({ actual: x, expected: off, probes: { eager: { python: x } } })).toMatchObject({ cause: "graph", verdict: "explained" });
    const both = judge({ actual: x, expected: off, probes: { "onednn-off-unoptimized": { python: x }, eager: { python: off } } });
    expect(both).toMatchObject({ cause: "onednn", verdict: "explained", reproducedBy: ["onednn-off-unoptimized"] });
    expect(both.reason).toMatch(/^oneDNN and a graph rewrite: .* and graph rewrites off in the Session the Session equals tfjs-node/);
    expect(judge({ actual: x, expected: off, probes: { "onednn-off": { python: x }, unoptimized: { python: x } } }).reason).toMatch(/^oneDNN: .*also reproduced by the Session with graph rewrites off/);
  });

  it("a difference inherited from an input passes within 1e-5, or when a probe reproduces the whole chain", () => {
    const x = f32([1, 2, 3]);
    const far = f32([1, 2, 3.001]);
    expect(judge({ actual: x, expected: f32([1, 2, nextUp(3, 4)]), probes: {}, inexactInput: "lstm" })).toMatchObject({ verdict: "explained", cause: "inherited" });
    expect(judge({ actual: x, expected: far, probes: {}, inexactInput: "lstm" })).toMatchObject({ verdict: "fail", cause: "inherited" });
    expect(judge({ actual: x, expected: far, probes: { "onednn-off": { python: x } }, inexactInput: "lstm" }).reason).toMatch(/inherits .* lstm .*with oneDNN off in both runtimes .* the runtimes agree bit for bit/);
  });

  it("the oneDNN-off control counts when both runtimes agree under it, whatever the production tfjs-node computed", () => {
    const x = f32([1, 2, 3]);
    const python = f32([1, 2, nextUp(3)]);
    // tfjs-node here runs oneDNN too: its own output (x) differs from both; the control pair agrees.
    expect(judge({ actual: x, expected: f32([1, 2, nextUp(3, 2)]), probes: { "onednn-off": { python, tfjs: python } } })).toMatchObject({ cause: "onednn", verdict: "explained" });
    expect(judge({ actual: x, expected: f32([1, 2, nextUp(3, 2)]), probes: { "onednn-off": { python, tfjs: x } } })).toMatchObject({ cause: "unexplained", verdict: "fail" });
  });

  it("shapes that differ fail at once; identical arrays are exact", () => {
    expect(judge({ actual: f32([1, 2]), expected: f32([1, 2, 3]), probes: {} })).toMatchObject({ verdict: "fail", cause: "shape" });
    expect(judge({ actual: f32([1, 2]), expected: f32([1, 2]), probes: {} })).toMatchObject({ verdict: "exact", reason: null });
  });
});

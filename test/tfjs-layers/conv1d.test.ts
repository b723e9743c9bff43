import { beforeAll, describe, expect, it } from "vitest";
import { compareArrays } from "../../src/parity/compare.js";
import { type KerasLayerClasses, registerKerasLayers } from "../../src/tfjs-layers/index.js";
import { type Tfjs, loadTfjs, withBackend } from "../../src/tfjs/runtime.js";
import { type ReferenceCase, type ReferenceResult, kerasReference } from "./keras-reference.js";
import { runTfjsCase } from "./tfjs-build.js";

const conv = (kernel: number, strides: number, dilation: number, extra: Record<string, unknown> = {}): ReferenceCase => ({
  id: `k${kernel} s${strides} d${dilation}${Object.keys(extra).length ? ` ${JSON.stringify(extra)}` : ""}`,
  class_name: "Conv1D",
  config: { filters: 5, kernel_size: kernel, strides, dilation_rate: dilation, padding: "causal", activation: "linear", use_bias: true, ...extra },
  batch: 2,
  timesteps: 11,
  features: 3,
  seed: 100 + kernel * 10 + strides * 3 + dilation,
});

// Keras (tf.nn.convolution) refuses strides > 1 together with dilation > 1.
const CASES: ReferenceCase[] = [
  ...[1, 2, 3, 4].flatMap((k) => [conv(k, 1, 1), conv(k, 2, 1), conv(k, 1, 2), conv(k, 1, 3)]),
  conv(3, 1, 2, { activation: "relu", use_bias: false }),
  conv(4, 2, 1, { activation: "tanh", filters: 16 }),
  // Not causal: kerasCustomClass leaves these to TF.js's own Conv1D, which agrees as well.
  conv(3, 1, 1, { padding: "same" }),
  conv(3, 2, 1, { padding: "valid" }),
];

let tf: Tfjs;
let classes: KerasLayerClasses;
let refs: Map<string, ReferenceResult>;

beforeAll(async () => {
  tf = await loadTfjs();
  classes = registerKerasLayers(tf);
  refs = kerasReference(CASES);
}, 300_000);

describe("TfbridgeConv1D against real Keras 3 (eager), same weights", () => {
  for (const c of CASES) {
    it(`${c.id}: tfjs-node bit-identical, cpu within 1e-5, Keras's output shape`, async () => {
      const ref = refs.get(c.id)!;
      const node = await withBackend(tf, "tensorflow", () => runTfjsCase(tf, classes, c, ref));
      const cpu = await withBackend(tf, "cpu", () => runTfjsCase(tf, classes, c, ref));
      const expected = ref.eager[0]!;
      const exact = compareArrays(node[0]!, expected, { atol: 0, rtol: 0 });
      expect(exact.shape.actual).toEqual(exact.shape.expected);
      expect(exact.maxUlp).toBe(0);
      const close = compareArrays(cpu[0]!, expected, { atol: 1e-5, rtol: 0 });
      expect(close.pass, `cpu: ${close.maxAbsError}`).toBe(true);
      for (const mode of [ref.function[0]!, ref.session[0]!]) expect(compareArrays(mode, expected, { atol: 0, rtol: 0 }).maxUlp).toBe(0);
    });
  }

  it("computes the causal output length without running (symbolic shapes)", () => {
    const layer = new classes.TfbridgeConv1D({ filters: 2, kernelSize: 3, strides: 2, dilationRate: 1, padding: "causal" });
    const out = layer.apply(tf.input({ shape: [11, 3] })) as unknown as { shape: (number | null)[] };
    expect(out.shape).toEqual([null, 6, 2]); // ceil(11 / 2), as Keras gives
  });

  it("round-trips its config with padding causal", () => {
    const layer = new classes.TfbridgeConv1D({ filters: 2, kernelSize: 2, padding: "causal" });
    expect(layer.getConfig()["padding"]).toBe("causal");
    expect(layer.getClassName()).toBe("TfbridgeConv1D");
  });
});

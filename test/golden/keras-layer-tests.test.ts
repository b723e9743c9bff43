import { beforeAll, describe, expect, it } from "vitest";
import { type Arr, GOLDEN_CASES, type GoldenCase } from "./fixture.js";
import { compareArrays } from "../../src/parity/compare.js";
import { type KerasLayerClasses, registerKerasLayers } from "../../src/tfjs-layers/index.js";
import { type Tfjs, type TfjsBackend, loadTfjs, withBackend } from "../../src/tfjs/runtime.js";
import { ndarray } from "../../src/wire/ndarray.js";
import { tfjsLayer } from "../tfjs-layers/tfjs-build.js";

type Tensor = import("@tensorflow/tfjs-node").Tensor;



let tf: Tfjs;
let classes: KerasLayerClasses;

beforeAll(async () => {
  tf = await loadTfjs();
  classes = registerKerasLayers(tf);
});

/** Builds the case's layer in TF.js with its weights, calls it eagerly as Keras's test did, returns the checked output. */
function runCase(c: GoldenCase): Float32Array {
  return tf.tidy(() => {
    const tensor = (a: Arr) => (a.dtype === "bool" ? tf.tensor(a.data as boolean[], a.shape, "bool") : tf.tensor(a.data as number[], a.shape, "float32"));
    const x = tensor(c.inputs.sequences);
    const initialState = c.inputs.initial_state?.map(tensor);
    const mask = c.inputs.mask ? tensor(c.inputs.mask) : undefined;
    // A fresh kwargs object per call: TF.js's Bidirectional.call overwrites kwargs.initialState.
    const kwargs = () => ({ ...(initialState ? { initialState } : {}), ...(mask ? { mask } : {}) });
    const layer = tfjsLayer(tf, classes, c.class_name, c.config);
    layer.apply(x, kwargs()); // builds the weights
    const weights = c.weights.map((w) => (w.fill !== undefined ? tf.fill(w.shape, w.fill, "float32") : tf.tensor(w.data!, w.shape, "float32")));
    expect(layer.getWeights().map((w) => w.shape)).toEqual(c.weights.map((w) => w.shape));
    layer.setWeights(weights);
    const out = layer.apply(x, kwargs()) as Tensor | Tensor[];
    let checked = (Array.isArray(out) ? out : [out])[c.expected.output]!;
    if (c.expected.batch_index !== undefined) checked = tf.gather(checked, c.expected.batch_index);
    const result = checked.dataSync() as Float32Array;
    layer.dispose();
    return result;
  });
}

describe("Keras 3's own RNN layer tests, reproduced by TF.js with our classes", () => {
  it("the fixture covers GRU (both reset_after), LSTM, SimpleRNN, Bidirectional, masks and initial states", () => {
    const inner = (c: GoldenCase) => ((c.config["layer"] as { config?: Record<string, unknown> } | undefined)?.config ?? c.config);
    const classesSeen = new Set(GOLDEN_CASES.map((c) => c.class_name));
    expect([...classesSeen].sort()).toEqual(["Bidirectional", "GRU", "LSTM", "SimpleRNN"]);
    const gru = GOLDEN_CASES.filter((c) => c.class_name === "GRU");
    expect(new Set(gru.map((c) => c.config["reset_after"]))).toEqual(new Set([true, false]));
    expect(GOLDEN_CASES.some((c) => c.inputs.mask && inner(c)["zero_output_for_mask"])).toBe(true);
    expect(GOLDEN_CASES.some((c) => c.inputs.initial_state && c.class_name === "Bidirectional")).toBe(true);
    for (const c of GOLDEN_CASES) expect(c.source.file).toMatch(/^keras\/src\/layers\/rnn\/\w+_test\.py$/);
  });

  for (const backend of ["tensorflow", "cpu"] as TfjsBackend[]) {
    describe(`on the ${backend} backend`, () => {
      for (const c of GOLDEN_CASES) {
        it(`${c.id}: within Keras's own tolerance`, async () => {
          const got = await withBackend(tf, backend, async () => runCase(c));
          const expected = ndarray("float32", c.expected.shape, Float32Array.from(c.expected.data as number[]));
          const cmp = compareArrays(ndarray("float32", c.expected.shape, got), expected, c.tolerance);
          expect(cmp.pass, `max abs error ${cmp.maxAbsError} (atol ${c.tolerance.atol}, rtol ${c.tolerance.rtol})`).toBe(true);
        });
      }
    });
  }
});

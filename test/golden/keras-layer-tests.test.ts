import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { compareArrays } from "../../src/parity/compare.js";
import { type KerasLayerClasses, registerKerasLayers } from "../../src/tfjs-layers/index.js";
import { type Tfjs, type TfjsBackend, loadTfjs, withBackend } from "../../src/tfjs/runtime.js";
import { ndarray } from "../../src/wire/ndarray.js";
import { tfjsLayer } from "../tfjs-layers/tfjs-build.js";

type Tensor = import("@tensorflow/tfjs-node").Tensor;

interface Arr {
  shape: number[];
  dtype: "float32" | "bool";
  data: (number | boolean)[];
}
interface GoldenCase {
  id: string;
  source: { repository: string; version: string; file: string; test: string; line: number };
  class_name: string;
  config: Record<string, unknown>;
  weights: { name: string; shape: number[]; fill?: number; data?: number[] }[];
  inputs: { sequences: Arr; initial_state: Arr[] | null; mask: Arr | null };
  expected: Arr & { output: number; batch_index?: number };
  tolerance: { atol: number; rtol: number };
}

// Keras's own RNN tests' cases and literal expected values, extracted by extract_keras_goldens.py.
const FIXTURE = JSON.parse(readFileSync(new URL("keras-layer-tests.json", import.meta.url), "utf8")) as { cases: GoldenCase[] };

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
    const classesSeen = new Set(FIXTURE.cases.map((c) => c.class_name));
    expect([...classesSeen].sort()).toEqual(["Bidirectional", "GRU", "LSTM", "SimpleRNN"]);
    const gru = FIXTURE.cases.filter((c) => c.class_name === "GRU");
    expect(new Set(gru.map((c) => c.config["reset_after"]))).toEqual(new Set([true, false]));
    expect(FIXTURE.cases.some((c) => c.inputs.mask && inner(c)["zero_output_for_mask"])).toBe(true);
    expect(FIXTURE.cases.some((c) => c.inputs.initial_state && c.class_name === "Bidirectional")).toBe(true);
    for (const c of FIXTURE.cases) expect(c.source.file).toMatch(/^keras\/src\/layers\/rnn\/\w+_test\.py$/);
  });

  for (const backend of ["tensorflow", "cpu"] as TfjsBackend[]) {
    describe(`on the ${backend} backend`, () => {
      for (const c of FIXTURE.cases) {
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

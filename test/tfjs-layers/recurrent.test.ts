import { beforeAll, describe, expect, it } from "vitest";
import { compareArrays } from "../../src/parity/compare.js";
import { EXACT } from "../../src/parity/verdict.js";
import { type KerasLayerClasses, registerKerasLayers } from "../../src/tfjs-layers/index.js";
import { type Tfjs, loadTfjs, withBackend } from "../../src/tfjs/runtime.js";
import { type ReferenceCase, type ReferenceResult, kerasReference } from "./keras-reference.js";
import { runTfjsCase } from "./tfjs-build.js";

const gru = (config: Record<string, unknown>) => ({
  units: 4,
  activation: "tanh",
  recurrent_activation: "sigmoid",
  use_bias: true,
  reset_after: true,
  return_sequences: false,
  return_state: false,
  go_backwards: false,
  ...config,
});
const lstm = (config: Record<string, unknown>) => {
  const { reset_after: _, ...rest } = gru(config);
  return { ...rest, unit_forget_bias: true };
};
const simpleRnn = (config: Record<string, unknown>) => {
  const { reset_after: _, recurrent_activation: __, ...rest } = gru(config);
  return rest;
};
const base = { class_name: "GRU", batch: 3, timesteps: 6, features: 3 };

// Every case is a Keras 3 GRU with reset_after=True unless it says otherwise.
const CASES: ReferenceCase[] = [
  { ...base, id: "last output", seed: 1, config: gru({}) },
  { ...base, id: "return_sequences", seed: 2, config: gru({ return_sequences: true }) },
  { ...base, id: "return_state + go_backwards", seed: 3, config: gru({ return_sequences: true, return_state: true, go_backwards: true }) },
  { ...base, id: "no bias", seed: 4, config: gru({ use_bias: false, return_sequences: true }) },
  { ...base, id: "reset_after=False, hard_sigmoid", seed: 5, config: gru({ reset_after: false, recurrent_activation: "hard_sigmoid", return_sequences: true }) },
  { ...base, id: "Masking, a row fully masked", seed: 6, mask: "masking", padding: [0, 2, 6], config: gru({ return_sequences: true, return_state: true }) },
  { ...base, id: "Masking + go_backwards", seed: 7, mask: "masking", padding: [1, 3, 0], config: gru({ return_sequences: true, go_backwards: true }) },
  { ...base, id: "Embedding mask_zero", seed: 8, mask: "embedding", vocab: 9, padding: [0, 4, 2], config: gru({ return_state: true }) },
  { ...base, id: "initial_state", seed: 9, initial_state: [4], config: gru({ return_sequences: true, return_state: true }) },
  {
    ...base,
    id: "initial_state + leading masked steps",
    seed: 10,
    mask: "masking",
    padding: [2, 0, 3],
    padding_side: "pre",
    initial_state: [4],
    config: gru({ return_sequences: true, return_state: true }),
  },
  {
    ...base,
    id: "Bidirectional concat + Embedding mask_zero",
    class_name: "Bidirectional",
    seed: 11,
    mask: "embedding",
    vocab: 7,
    padding: [0, 3, 1],
    config: { merge_mode: "concat", layer: { class_name: "GRU", config: gru({ return_sequences: true }) } },
  },
  {
    ...base,
    id: "Bidirectional sum + initial_state + return_state",
    class_name: "Bidirectional",
    seed: 12,
    initial_state: [4, 4],
    config: { merge_mode: "sum", layer: { class_name: "GRU", config: gru({ return_state: true }) } },
  },
  {
    ...base,
    id: "Bidirectional ave, Masking, last output",
    class_name: "Bidirectional",
    seed: 13,
    mask: "masking",
    padding: [2, 0, 5],
    config: { merge_mode: "ave", layer: { class_name: "GRU", config: gru({}) } },
  },
  {
    ...base,
    id: "Bidirectional + Masking + initial_state (Keras drops the mask)",
    class_name: "Bidirectional",
    seed: 15,
    mask: "masking",
    padding: [3, 0, 1],
    initial_state: [4, 4],
    config: { merge_mode: "mul", layer: { class_name: "GRU", config: gru({ return_sequences: true }) } },
  },
  // LSTM and SimpleRNN: TF.js's own cells, in Keras's time loop.
  { ...base, id: "LSTM, Masking, return_state", class_name: "LSTM", seed: 20, mask: "masking", padding: [0, 2, 6], config: lstm({ return_sequences: true, return_state: true }) },
  {
    ...base,
    id: "LSTM, initial_state + leading masked steps",
    class_name: "LSTM",
    seed: 21,
    mask: "masking",
    padding: [2, 0, 3],
    padding_side: "pre",
    initial_state: [4, 4],
    config: lstm({ return_sequences: true, return_state: true }),
  },
  {
    ...base,
    id: "Bidirectional LSTM concat + Embedding mask_zero",
    class_name: "Bidirectional",
    seed: 22,
    mask: "embedding",
    vocab: 7,
    padding: [0, 3, 1],
    config: { merge_mode: "concat", layer: { class_name: "LSTM", config: lstm({ return_sequences: true }) } },
  },
  { ...base, id: "SimpleRNN, Masking + go_backwards", class_name: "SimpleRNN", seed: 23, mask: "masking", padding: [1, 3, 0], config: simpleRnn({ return_sequences: true, go_backwards: true }) },
  {
    ...base,
    id: "Bidirectional SimpleRNN sum + Masking",
    class_name: "Bidirectional",
    seed: 24,
    mask: "masking",
    padding: [2, 0, 4],
    config: { merge_mode: "sum", layer: { class_name: "SimpleRNN", config: simpleRnn({ return_sequences: true }) } },
  },
  { ...base, id: "large", batch: 8, timesteps: 30, features: 16, seed: 14, config: gru({ units: 32, return_sequences: true }) },
];

let tf: Tfjs;
let classes: KerasLayerClasses;
let refs: Map<string, ReferenceResult>;

beforeAll(async () => {
  tf = await loadTfjs();
  classes = registerKerasLayers(tf);
  refs = kerasReference(CASES);
}, 300_000);

describe("TfbridgeGRU, TfbridgeLSTM, TfbridgeSimpleRNN against real Keras 3 (eager), same weights", () => {
  for (const c of CASES) {
    it(`${c.id}: tfjs-node bit-identical, cpu within 1e-5`, async () => {
      const ref = refs.get(c.id)!;
      const node = await withBackend(tf, "tensorflow", () => runTfjsCase(tf, classes, c, ref));
      const cpu = await withBackend(tf, "cpu", () => runTfjsCase(tf, classes, c, ref));
      expect(node.length).toBe(ref.eager.length);
      ref.eager.forEach((expected, i) => {
        const exact = compareArrays(node[i]!, expected, { atol: 0, rtol: 0 });
        expect(exact.comparable).toBe(true);
        expect(exact.maxUlp, `output ${i}`).toBe(0);
        const close = compareArrays(cpu[i]!, expected, { atol: 1e-5, rtol: 0 });
        expect(close.pass, `cpu output ${i}: ${close.maxAbsError}`).toBe(true);
      });
    });
  }
});

describe("why LSTM needs Keras's loop too", () => {
  it("TF.js's own LSTM in a Bidirectional over a mask repeats outputs at masked steps where Keras writes zeros", async () => {
    const c = CASES.find((k) => k.id === "Bidirectional LSTM concat + Embedding mask_zero")!;
    const ref = refs.get(c.id)!;
    const stock = await withBackend(tf, "tensorflow", () => runTfjsCase(tf, classes, c, ref, true));
    const d = compareArrays(stock[0]!, ref.eager[0]!, { atol: 1e-3, rtol: 0 });
    expect(d.pass).toBe(false);
    expect(d.worst!.expected).toBe(0); // a masked step: Keras's zero_output_for_mask
  });
});

describe("Keras 3's own modes on the same cases", () => {
  // Grappler rewrites (relu6(z + 3) / 6)·g as relu6(z + 3)·(g·(1/6)) in graphs (README, "traps"):
  // the graph modes then leave the layer's op order, which eager and TF.js keep.
  const grapplerTrap = (c: ReferenceCase) => JSON.stringify(c.config).includes("hard_sigmoid");

  // On CPUs where oneDNN's kernels change TF's numbers (AVX-512), the graph modes can also differ from
  // eager through them: each such case is run again in a process with oneDNN off, where it must agree.
  it("tf.function and the v1 Session agree with eager bit for bit, but for the hard_sigmoid trap and oneDNN's kernels", () => {
    const viaOnednn = new Set<string>();
    for (const c of CASES) {
      const ref = refs.get(c.id)!;
      ref.eager.forEach((expected, i) => {
        for (const [mode, got] of [["function", ref.function[i]!], ["session", ref.session[i]!]] as const) {
          const d = compareArrays(got, expected, { atol: 1e-6, rtol: 0 });
          if (grapplerTrap(c)) {
            expect(d.maxUlp, `${c.id} ${mode} ${i}: the trap shows`).toBeGreaterThan(0);
            expect(d.pass, `${c.id} ${mode} ${i}: ${d.maxAbsError}`).toBe(true);
          } else if (d.maxUlp > 0) {
            expect(d.pass, `${c.id} ${mode} ${i}: ${d.maxAbsError}`).toBe(true);
            viaOnednn.add(c.id);
          }
        }
      });
    }
    if (viaOnednn.size === 0) return;
    const off = kerasReference(CASES.filter((c) => viaOnednn.has(c.id)), { TF_ENABLE_ONEDNN_OPTS: "0" });
    for (const id of viaOnednn) {
      const ref = off.get(id)!;
      ref.eager.forEach((expected, i) => {
        expect(compareArrays(ref.function[i]!, expected, EXACT).maxUlp, `${id} function ${i}, oneDNN off`).toBe(0);
        expect(compareArrays(ref.session[i]!, expected, EXACT).maxUlp, `${id} session ${i}, oneDNN off`).toBe(0);
      });
    }
  });
});

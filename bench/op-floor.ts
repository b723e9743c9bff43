/**
 * What sets the floor under the converted model in tfjs-node (issue 21): each op of one LSTM step at the
 * bench LSTM's sizes (batch 32, 16 features, 64 units; recurrent-steps.ts's lstmStep, op for op), timed
 * on its own in tfjs-node, and their sum over the 100 steps beside the converted twin's measured predict.
 * When the sum is most of the predict, the time goes to per-op dispatch, not to the loop around it.
 */
import { loadTfjs } from "../src/tfjs/runtime.js";
import { round, summarize } from "./stats.js";

/** One op of the step: its median cost and how often a step runs it. */
export interface OpCost {
  op: string;
  shapes: string;
  medianUs: number;
  perStep: number;
}

export interface OpFloorSection {
  ops: OpCost[];
  /** Σ medianUs × perStep: one step's ops, in µs. */
  stepUs: number;
  steps: number;
  /** stepUs × steps, in ms. */
  floorMs: number;
  /** The lstm section's converted twin on tfjs-node, median ms. */
  twinMs: number;
  /** floorMs ÷ twinMs. */
  floorShare: number;
}

export async function opFloor(twinMs: number, quick: boolean): Promise<OpFloorSection> {
  const tf = await loadTfjs();
  const [batch, features, units, steps] = [32, 16, 64, 100];
  const uniform = (shape: number[]) => tf.randomUniform(shape, -1, 1, "float32", 1);
  const x = uniform([batch, features]);
  const kernel = uniform([features, 4 * units]);
  const h = uniform([batch, units]);
  const recurrent = uniform([units, 4 * units]);
  const z = uniform([batch, 4 * units]);
  const bias = uniform([4 * units]);
  const gate = uniform([batch, units]);
  const cases: [string, string, number, () => unknown][] = [
    ["matMul", `x·W [${batch},${features}]·[${features},${4 * units}]`, 1, () => tf.matMul(x, kernel)],
    ["matMul", `h·U [${batch},${units}]·[${units},${4 * units}]`, 1, () => tf.matMul(h, recurrent)],
    ["add", `[${batch},${4 * units}] + [${batch},${4 * units}]`, 1, () => tf.add(z, z)],
    ["add (bias)", `[${batch},${4 * units}] + [${4 * units}]`, 1, () => tf.add(z, bias)],
    ["split", `[${batch},${4 * units}] into 4`, 1, () => tf.split(z, 4, 1)],
    ["sigmoid", `[${batch},${units}]`, 3, () => tf.sigmoid(gate)],
    ["tanh", `[${batch},${units}]`, 2, () => tf.tanh(gate)],
    ["mul", `[${batch},${units}]`, 3, () => tf.mul(gate, gate)],
    ["add", `[${batch},${units}]`, 1, () => tf.add(gate, gate)],
  ];
  const rounds = quick ? 5 : 21;
  const calls = 100;
  const ops: OpCost[] = cases.map(([op, shapes, perStep, run]) => {
    for (let i = 0; i < 20; i++) tf.dispose(run() as never);
    const samples: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const started = performance.now();
      for (let i = 0; i < calls; i++) tf.dispose(run() as never);
      samples.push(((performance.now() - started) * 1000) / calls);
    }
    return { op, shapes, perStep, medianUs: round(summarize(samples).median) };
  });
  tf.dispose([x, kernel, h, recurrent, z, bias, gate]);
  const stepUs = round(ops.reduce((sum, o) => sum + o.medianUs * o.perStep, 0));
  const floorMs = round((stepUs * steps) / 1000);
  return { ops, stepUs, steps, floorMs, twinMs, floorShare: round(floorMs / twinMs) };
}

import { Bridge } from "../bridge.js";
import type { LstmSpec } from "../spec/lstm.js";
import { ndarray } from "../wire/ndarray.js";

/** The three examples of the seed document, in its order, with its batch sizes. */
export const SEED_EXAMPLES: readonly { name: string; spec: LstmSpec; batch: number }[] = [
  { name: "basic LSTM output", spec: { units: 32, inputShape: [10, 1] }, batch: 1 },
  { name: "batch 2, sequence 15, last output", spec: { units: 64, inputShape: [15, 1], returnSequences: false }, batch: 2 },
  { name: "batch 3, full sequence", spec: { units: 64, inputShape: [10, 1], returnSequences: true }, batch: 3 },
];

/** Uniform [0, 1) numbers from a fixed seed (mulberry32), standing in for the seed's np.random.rand. */
export function uniformInput(shape: [number, number, number], seed = 1): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  });
}

export interface DemoExample {
  name: string;
  shape: number[];
  dtype: string;
  mode: string;
  spec: Record<string, unknown>;
  first: number[];
}

export interface DemoReport {
  tensorflow: string;
  keras: string;
  python: string;
  numpy: string;
  examples: DemoExample[];
}

/** Runs the seed's examples through a real worker and collects what each produced. */
export async function runDemo(bridge: Bridge): Promise<DemoReport> {
  const examples: DemoExample[] = [];
  for (const { name, spec, batch } of SEED_EXAMPLES) {
    const shape: [number, number, number] = [batch, ...spec.inputShape];
    const input = ndarray("float32", shape, uniformInput(shape, examples.length + 1));
    const result = await bridge.runLstm(spec, input, { mode: "session" });
    examples.push({
      name,
      shape: [...result.output.shape],
      dtype: result.output.dtype,
      mode: result.mode,
      spec: result.spec,
      first: Array.from(result.output.data.subarray(0, 4)),
    });
  }
  const { tensorflow, keras, python, numpy } = bridge.info;
  return { tensorflow, keras, python, numpy, examples };
}

export function formatDemo(report: DemoReport): string {
  const rows = report.examples.map((e, i) => {
    const first = e.first.map((v) => v.toFixed(6)).join(", ");
    return `  ${i + 1}. ${e.name.padEnd(36)} shape [${e.shape.join(", ")}]`.padEnd(62) + `${e.dtype}  ${e.mode}  first: ${first}, …`;
  });
  return [
    `The seed's three Keras LSTM examples, each built inside an explicit tf.Graph and run in a`,
    `tf.compat.v1.Session by TensorFlow ${report.tensorflow} (Keras ${report.keras}, Python ${report.python}, NumPy ${report.numpy}):`,
    ...rows,
    ``,
    `Why not the seed's code as written: on TensorFlow 2 a Keras call outside a tf.Graph is eager, so`,
    `output_tensor.eval(session=sess) and sess.run(output_tensor) fail; the graph must be built first.`,
  ].join("\n");
}

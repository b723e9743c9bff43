import { Bridge } from "../bridge.js";
import { PythonError } from "../errors.js";
import type { PyProxy } from "../proxies/proxies.js";
import { LSTM_OUTPUTS, type LstmSpec, lstmModel } from "../models/lstm-spec.js";
import { uniformFloat32 } from "../random.js";
import { type NDArray, ndarray } from "../wire/ndarray.js";
import { parseFlags } from "./args.js";
import type { CommandContext } from "./context.js";

export const DEMO_USAGE = `usage: tfbridge demo [--json]

Runs the seed document's three Keras LSTM examples in a real Python TensorFlow v1 Session (each built
inside its own tf.Graph), prints each output's shape and first values, then runs the seed's code as
written and shows how TensorFlow 2 makes it fail.

options:
  --json      the report as JSON on stdout
  --verbose   stacks on errors, TensorFlow's C++ logs and the worker's stderr

examples:
  tfbridge demo
  tfbridge demo --json`;

/** The three examples of the seed document, in its order, with its batch sizes. */
export const SEED_EXAMPLES: readonly { name: string; spec: LstmSpec; batch: number }[] = [
  { name: "basic LSTM output", spec: { units: 32, inputShape: [10, 1] }, batch: 1 },
  { name: "batch 2, sequence 15, last output", spec: { units: 64, inputShape: [15, 1], returnSequences: false }, batch: 2 },
  { name: "batch 3, full sequence", spec: { units: 64, inputShape: [10, 1], returnSequences: true }, batch: 3 },
];

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
  /** The seed's own pattern (eager Keras call, then a Session) tried in the worker, and how it failed. */
  seedAsWritten: { error: string; message: string } | null;
}

/**
 * Runs the seed's example 1 as written, through proxies in the same worker: an eager Keras call, then
 * `sess.run` on its result through tfbridge_worker.graph_mode.session_run, which explains the failure.
 */
async function trySeedAsWritten(bridge: Bridge): Promise<DemoReport["seedAsWritten"]> {
  const tf = await bridge.python.import("tensorflow");
  const keras = await bridge.python.import("keras");
  const graphMode = await bridge.python.import("tfbridge_worker.graph_mode");
  const input = ndarray("float32", [1, 10, 1], uniformFloat32(10, 1));
  const layer = (await keras.layers!.LSTM!(32)) as PyProxy;
  const eagerOutput = await layer(input);
  const session = await tf.compat!.v1!.Session!();
  try {
    await graphMode.session_run!(session, eagerOutput);
    return null;
  } catch (e) {
    if (!(e instanceof PythonError)) throw e;
    return { error: e.pythonType, message: e.pythonMessage };
  } finally {
    await (session as PyProxy).close!();
  }
}

/** Runs the seed's examples through a real worker and collects what each produced. */
export async function runDemo(bridge: Bridge): Promise<DemoReport> {
  const examples: DemoExample[] = [];
  for (const { name, spec, batch } of SEED_EXAMPLES) {
    const [timesteps, features] = spec.inputShape;
    // Uniform [0, 1), like the seed's np.random.rand, but the same on every run.
    const input = ndarray("float32", [batch, timesteps, features], uniformFloat32(batch * timesteps * features, examples.length + 1));
    const { config, resolved } = lstmModel(spec);
    await using model = await bridge.model(config, { seed: resolved.seed });
    const result = await model.predict(input, { mode: "session" });
    const output = result.outputs[LSTM_OUTPUTS.output] as NDArray<"float32">;
    examples.push({ name, shape: [...output.shape], dtype: output.dtype, mode: result.mode, spec: resolved, first: Array.from(output.data.subarray(0, 4)) });
  }
  const { tensorflow, keras, python, numpy } = bridge.info;
  return { tensorflow, keras, python, numpy, examples, seedAsWritten: await trySeedAsWritten(bridge) };
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
    report.seedAsWritten
      ? `The seed's code as written (a Keras call, then sess.run on its result) fails on TensorFlow 2:\n  ${report.seedAsWritten.error}: ${report.seedAsWritten.message}`
      : `The seed's code as written ran without error (not expected on TensorFlow 2).`,
  ].join("\n");
}

/** `tfbridge demo`. */
export async function demoCommand(args: string[], context: CommandContext): Promise<number> {
  const v = parseFlags(args, { json: { type: "boolean" } });
  await using bridge = await Bridge.start({ forwardStderr: context.verbose });
  const report = await runDemo(bridge);
  process.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDemo(report)}\n`);
  return 0;
}

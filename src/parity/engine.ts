import { rmSync } from "node:fs";
import type { TensorflowClient } from "../client.js";
import { type LstmMode, type LstmSpec, type LstmWeights, type ResolvedLstmSpec, resolveLstmSpec } from "../lstm/spec.js";
import { checkTfjsSupport, runTfjsLstm } from "../tfjs/lstm.js";
import type { TfjsBackend } from "../tfjs/runtime.js";
import { loadTfjsSavedModel } from "../tfjs/savedmodel.js";
import { uniformFloat32 } from "../random.js";
import { type NDArray, elementCount, ndarray } from "../wire/ndarray.js";
import { type Comparison, type Tolerance, compareArrays } from "./compare.js";
import { type ParityEnvironment, parityEnvironment } from "./environment.js";
import { type Trap, knownTraps } from "./traps.js";

/**
 * The JS runtimes parity compares with Python: `tf.layers.lstm` on tfjs-node and on the pure-JS CPU
 * backend, and the worker's SavedModel of the same layer run by tfjs-node as one graph.
 */
export type RuntimeName = "tfjs-node" | "tfjs-cpu" | "tfjs-node-savedmodel";
export const RUNTIMES: readonly RuntimeName[] = ["tfjs-node", "tfjs-cpu", "tfjs-node-savedmodel"];

/**
 * tfjs-node runs on the same TensorFlow C library as Python, so it is held to bit-for-bit agreement;
 * the pure-JS CPU backend has its own kernels and gets 1e-5 absolute.
 */
export const DEFAULT_TOLERANCE: Readonly<Record<RuntimeName, Tolerance>> = {
  "tfjs-node": { atol: 0, rtol: 0 },
  "tfjs-cpu": { atol: 1e-5, rtol: 0 },
  "tfjs-node-savedmodel": { atol: 0, rtol: 0 },
};

const LAYER_BACKEND: Readonly<Record<Exclude<RuntimeName, "tfjs-node-savedmodel">, TfjsBackend>> = { "tfjs-node": "tensorflow", "tfjs-cpu": "cpu" };

export interface ParityOptions {
  /** Batch size of the generated input. Default 2. */
  batch?: number;
  /** Seed of the generated input (uniform in [-1, 1)). Default 0. */
  inputSeed?: number;
  /**
   * Which runtimes to run. Default all three; `tfjs-node-savedmodel` needs the worker on this machine
   * (it reads the SavedModel the worker writes).
   */
  runtimes?: readonly RuntimeName[];
  tolerance?: Partial<Record<RuntimeName, Tolerance>>;
}

type OutputName = "output" | "h" | "c";

/** One JS runtime against the Python reference. */
export interface RuntimeParity {
  runtime: RuntimeName;
  /**
   * What it was compared with: the Session, or for a trap spec Python's eager mode. The SavedModel,
   * a graph that Grappler optimizes just as the Session's, is always compared with the Session.
   */
  reference: LstmMode;
  /** Per output (output, and h, c with returnState). */
  comparisons: Partial<Record<OutputName, Comparison>>;
  pass: boolean;
}

/** What the comparison measured for a spec that walks into a known trap. */
export interface TrapReport {
  traps: Trap[];
  /** Python Session against Python eager, same weights: what the graph optimizer changes. */
  sessionVsEager: Comparison;
  /** TF.js with its own hardSigmoid against the reference: the size of that trap (null without it). */
  naiveTfjs: Comparison | null;
}

/** The verdict for one spec, with everything needed to see why. */
export interface ParityReport {
  spec: ResolvedLstmSpec;
  inputShape: number[];
  inputSeed: number;
  /** The Python mode the layer runtimes are compared with: `session`, or `eager` for a trap (see trap). */
  reference: LstmMode;
  runtimes: RuntimeParity[];
  trap: TrapReport | null;
  /** Each runtime's CPU ISA and oneDNN state: what the verdict holds for. */
  environment: ParityEnvironment;
  pass: boolean;
}

/** Uniform [-1, 1) float32 input of `shape`, the same for the same seed on every run. */
export function seededInput(shape: readonly number[], seed: number): NDArray<"float32"> {
  return ndarray("float32", shape, uniformFloat32(elementCount(shape), seed, -1, 1));
}

/** The layer exported by the worker as a SavedModel and run by tfjs-node as one graph. */
async function runSavedModel(bridge: TensorflowClient, spec: ResolvedLstmSpec, weights: LstmWeights, input: NDArray<"float32">) {
  const path = await bridge.exportLstm({ ...spec, weights });
  try {
    const model = await loadTfjsSavedModel(path, spec.returnState ? ["output", "h", "c"] : ["output"]);
    try {
      return await model.run(input);
    } finally {
      model.dispose();
    }
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

function compareOutputs(actual: Partial<Record<OutputName, NDArray>>, expected: Partial<Record<OutputName, NDArray>>, tolerance: Tolerance) {
  const comparisons: Partial<Record<OutputName, Comparison>> = {};
  for (const name of ["output", "h", "c"] as const) {
    if (expected[name]) comparisons[name] = compareArrays(actual[name]!, expected[name]!, tolerance);
  }
  return comparisons;
}

/**
 * Runs one spec in Python (v1 Session) and in TF.js with the very same weights, taken from the Python
 * model, and compares the outputs. A spec with a known trap (src/parity/traps.ts) is compared against
 * Python's eager mode, which runs the layer's own ops in order, and the report measures and explains how
 * the Session differs.
 * @throws {TfjsUnsupportedError} when TF.js cannot express the spec (e.g. float64).
 */
export async function runParity(bridge: TensorflowClient, spec: LstmSpec, options: ParityOptions = {}): Promise<ParityReport> {
  const resolved = resolveLstmSpec(spec);
  checkTfjsSupport(resolved);
  const inputSeed = options.inputSeed ?? 0;
  const input = seededInput([options.batch ?? 2, ...resolved.inputShape], inputSeed);
  const traps = knownTraps(resolved);
  const reference: LstmMode = traps.length > 0 ? "eager" : "session";

  const environment = await parityEnvironment(await bridge.workerInfo());
  const session = await bridge.runLstm({ ...resolved, weights: spec.weights }, input, { returnWeights: true });
  const weights: LstmWeights = session.weights!;
  const expected = reference === "session" ? session : await bridge.runLstm({ ...resolved, weights }, input, { mode: "eager" });

  const runtimes: RuntimeParity[] = [];
  for (const runtime of options.runtimes ?? RUNTIMES) {
    const tolerance = options.tolerance?.[runtime] ?? DEFAULT_TOLERANCE[runtime];
    const graph = runtime === "tfjs-node-savedmodel";
    const actual = graph ? await runSavedModel(bridge, resolved, weights, input) : await runTfjsLstm(resolved, weights, input, { backend: LAYER_BACKEND[runtime] });
    const comparisons = compareOutputs(actual, graph ? session : expected, tolerance);
    runtimes.push({ runtime, reference: graph ? "session" : reference, comparisons, pass: Object.values(comparisons).every((c) => c.pass) });
  }

  let trap: TrapReport | null = null;
  if (traps.length > 0) {
    const exact = { atol: 0, rtol: 0 };
    const naive = traps.some((t) => t.id === "hard_sigmoid")
      ? await runTfjsLstm(resolved, weights, input, { backend: "tensorflow", naiveActivations: true })
      : null;
    trap = {
      traps,
      sessionVsEager: compareArrays(session.output, expected.output, exact),
      naiveTfjs: naive && compareArrays(naive.output, expected.output, exact),
    };
  }
  return { spec: resolved, inputShape: [...input.shape], inputSeed, reference, runtimes, trap, environment, pass: runtimes.every((r) => r.pass) };
}

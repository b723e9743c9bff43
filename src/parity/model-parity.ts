import { type KerasLayerConfig, type KerasModelConfig, nodeInputs, tensorName } from "../models/config.js";
import type { ModelHandle, TensorInfo } from "../models/handle.js";
import { uniformFloat32 } from "../random.js";
import { type TfjsModel, buildTfjsModel } from "../tfjs/model.js";
import type { TfjsBackend } from "../tfjs/runtime.js";
import { type NDArray, elementCount, ndarray } from "../wire/ndarray.js";
import { type Comparison, type Tolerance, compareArrays } from "./compare.js";
import { boundFor } from "./layer-bounds.js";

/** Options of {@link runModelParity}. */
export interface ModelParityOptions {
  /** Inputs in the model's input order; default: seeded from the input signature. */
  inputs?: NDArray[];
  /** Batch size of seeded inputs. Default 2. */
  batch?: number;
  /** Seed of the generated inputs. Default 0. */
  inputSeed?: number;
  /** Tolerance of the pure-JS CPU backend against the Session. Default 1e-5 absolute. */
  cpuTolerance?: Tolerance;
  /** Skip the pure-JS CPU backend (it is ~10–100× slower than tfjs-node). */
  skipCpu?: boolean;
  /** The TF.js model under test on a backend; default: the twin built from the handle's config and weights. */
  twin?: (backend: TfjsBackend) => Promise<TfjsModel>;
  /** Also hold TF.js's own `model.predict` to the layer-by-layer walk, bit for bit, on each backend. */
  stockPredict?: boolean;
}

/** One layer output compared across the runtimes. */
export interface LayerParity {
  /** The output's name: `layer` or `layer:i`. */
  name: string;
  layer: string;
  class: string;
  /** tfjs-node against the Python Session. */
  tfjsNode: Comparison;
  /** The pure-JS CPU backend against the Session (null when skipped). */
  cpu: Comparison | null;
  /**
   * Python's Session against Python eager, same weights: what the graph optimizer changed. Eager only
   * runs when some output of the model is not bit-exact; otherwise this compares the Session with itself.
   */
  sessionVsEager: Comparison;
  worstUlpTfjsNode: number;
  cpuWorstAbsError: number | null;
  /** tfjs-node reproduced this output bit for bit. */
  exact: boolean;
  /** Every input of this layer agreed bit for bit on tfjs-node. */
  inputsExact: boolean;
  /** Why the output is not exact (null when it is). */
  reason: string | null;
  /** The kind of {@link reason}. */
  cause: DivergenceCause;
  pass: boolean;
}

/**
 * Why a tfjs-node output is not bit-identical to the Session's: `grappler` (the Session's optimizer
 * rewrote the layer; tfjs-node equals Python eager), `inherited` (an input already differed), `bound`
 * (an op TF.js lacks, held to a stated bound), `unexplained`, or `shape`.
 */
export type DivergenceCause = "exact" | "grappler" | "inherited" | "bound" | "unexplained" | "shape";

/** One of the model's own outputs, from the unmarked Session graph, against tfjs-node. */
export interface ModelOutputParity {
  name: string;
  /** TF.js's own `model.predict` against the layer-by-layer walk on tfjs-node (with `stockPredict`). */
  stockPredict?: Comparison;
  /** The same on the pure-JS CPU backend (with `stockPredict`, unless the CPU backend is skipped). */
  stockPredictCpu?: Comparison;
  /** The unmarked Session against the layer-marking one. */
  markingChanged: Comparison;
  tfjsNode: Comparison;
  exact: boolean;
  reason: string | null;
  pass: boolean;
}

/** The verdict for one model, layer by layer. */
export interface ModelParityReport {
  model: string;
  inputs: TensorInfo[];
  inputShapes: number[][];
  passed: boolean;
  layers: LayerParity[];
  /** The first layer whose inputs agree bit for bit on tfjs-node and whose output does not. */
  firstDivergentLayer: string | null;
  /**
   * The model's outputs as users run them, from the unmarked graph: marking every layer's output can
   * change what the Session's optimizer fuses (Polygraphy's warning), so tfjs-node is held to these
   * too. `markingChanged` is the unmarked Session against the marked one.
   */
  modelOutputs: ModelOutputParity[];
  /** The model outputs whose values marking changed (see {@link modelOutputs}). */
  markingChangedOutputs: string[];
  exactLayers: number;
  worstUlpTfjsNode: number;
  cpuWorstAbsError: number | null;
}

export const EXACT: Tolerance = { atol: 0, rtol: 0 };
export const DEFAULT_CPU_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 0 };
/** How far a difference inherited from an inexact input may grow on tfjs-node before it fails. */
export const INHERITED_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-5 };

/** The layers that feed each layer, as output names, from the config's graph (masks excluded). */
export function layerInputs(config: KerasModelConfig): Map<string, string[]> {
  const inputs = new Map<string, string[]>();
  let previous: string | null = null;
  for (const entry of config.config.layers) {
    const name = String(entry.config.name);
    if (config.class_name === "Sequential") {
      inputs.set(name, previous ? [previous] : []);
      previous = name;
    } else {
      inputs.set(name, (entry.inbound_nodes ?? []).flatMap((n) => nodeInputs(n).map((t) => tensorName(t.config.keras_history))));
    }
  }
  return inputs;
}

/** Embedding input_dim (and whether it masks zeros) per model input that feeds an Embedding. */
function embeddingInputs(config: KerasModelConfig): Map<string, { inputDim: number; maskZero: boolean }> {
  const found = new Map<string, { inputDim: number; maskZero: boolean }>();
  const feeds = layerInputs(config);
  for (const entry of config.config.layers) {
    if (entry.class_name !== "Embedding") continue;
    for (const source of feeds.get(String(entry.config.name)) ?? []) {
      found.set(source, { inputDim: Number(entry.config.input_dim), maskZero: entry.config.mask_zero === true });
    }
  }
  return found;
}

/** Masking's mask_value per model input that feeds a Masking layer. */
function maskingInputs(config: KerasModelConfig): Map<string, number> {
  const found = new Map<string, number>();
  const feeds = layerInputs(config);
  for (const entry of config.config.layers) {
    if (entry.class_name !== "Masking") continue;
    for (const source of feeds.get(String(entry.config.name)) ?? []) found.set(source, Number(entry.config.mask_value));
  }
  return found;
}

/**
 * Inputs shaped from the model's signature, the same for the same seed: floats uniform in [-1, 1);
 * ids in [1, input_dim) for an Embedding; and where a mask can arise (Embedding mask_zero, Masking),
 * each row after the first ends in a run of padded (masked) timesteps, so masks are exercised.
 */
export function seededModelInputs(config: KerasModelConfig, inputs: TensorInfo[], batch: number, seed: number): NDArray[] {
  const embeddings = embeddingInputs(config);
  const maskings = maskingInputs(config);
  return inputs.map((spec, k) => {
    const shape = [batch, ...spec.shape.slice(1).map((d) => d ?? 4)];
    const n = elementCount(shape);
    const u = uniformFloat32(n, seed * 7919 + k, 0, 1);
    const steps = shape[1] ?? 1;
    const perRow = n / batch;
    const perStep = perRow / steps;
    const padded = (flat: number) => {
      const row = Math.floor(flat / perRow);
      const step = Math.floor((flat % perRow) / perStep);
      return row > 0 && step >= steps - Math.min(row, Math.floor(steps / 2));
    };
    const embedding = embeddings.get(spec.name);
    if (embedding || spec.dtype !== "float32") {
      const dim = embedding?.inputDim ?? 10;
      const ids = Array.from(u, (v, i) => (embedding?.maskZero && padded(i) ? 0 : 1 + Math.floor(v * (dim - 1)) % Math.max(1, dim - 1)));
      return spec.dtype === "int64" ? ndarray("int64", shape, BigInt64Array.from(ids, BigInt)) : ndarray("int32", shape, Int32Array.from(ids));
    }
    const maskValue = maskings.get(spec.name);
    return ndarray("float32", shape, Float32Array.from(u, (v, i) => (maskValue !== undefined && padded(i) ? maskValue : v * 2 - 1)));
  });
}

function explain(
  layerConfig: KerasLayerConfig | undefined,
  node: Comparison,
  eagerExact: boolean,
  sessionVsEager: Comparison,
  inexactInput: string | undefined,
  withinInherited: () => boolean,
): { reason: string | null; cause: DivergenceCause; pass: boolean } {
  if (node.comparable && node.maxUlp === 0 && node.nan.mismatched === 0) return { reason: null, cause: "exact", pass: true };
  if (!node.comparable) {
    return { reason: `shape or dtype differ: TF.js ${JSON.stringify(node.shape.actual)} ${node.dtype.actual}, Python ${JSON.stringify(node.shape.expected)} ${node.dtype.expected}`, cause: "shape", pass: false };
  }
  if (inexactInput !== undefined) {
    if (eagerExact) return { reason: `inherits the difference of its input ${inexactInput}; tfjs-node equals Python eager bit for bit`, cause: "inherited", pass: true };
    return { reason: `inherits the difference of its input ${inexactInput}`, cause: "inherited", pass: withinInherited() };
  }
  if (eagerExact) {
    return {
      reason: `TensorFlow's graph optimizer (Grappler) rewrote this layer's ops in the Session (Session vs Python eager: ${sessionVsEager.maxUlp} ULP); tfjs-node equals Python eager bit for bit`,
      cause: "grappler",
      pass: true,
    };
  }
  const bound = boundFor(layerConfig);
  if (bound) return { reason: `${bound.reason} (${node.maxUlp} ULP, max abs ${node.maxAbsError.toExponential(2)}; bound ${bound.atol})`, cause: "bound", pass: node.maxAbsError <= bound.atol };
  return { reason: `unexplained: ${node.maxUlp} ULP (max abs ${node.maxAbsError.toExponential(2)}) although every input agrees bit for bit`, cause: "unexplained", pass: false };
}

/**
 * Runs one model in the Python Session, on tfjs-node and on the pure-JS CPU backend with the very same
 * weights and inputs, and compares **every layer's output** in topological order. A layer that is not
 * bit-exact on tfjs-node is explained: a graph rewrite in the Session (tfjs-node then equals Python
 * eager), a difference inherited from its inputs, or a measured op-level bound for its class
 * (src/parity/layer-bounds.ts); anything else fails and is named as the first divergent layer.
 * @throws {TfjsUnsupportedModelError} when the model has no TF.js twin (`handle.tfjs`, every layer
 * listed) or TF.js cannot compute it as Keras does; it still runs in Python.
 */
export async function runModelParity(handle: ModelHandle, options: ModelParityOptions = {}): Promise<ModelParityReport> {
  const config = handle.twinConfig();
  const inputs = options.inputs ?? seededModelInputs(config, handle.inputs, options.batch ?? 2, options.inputSeed ?? 0);
  handle.orderInputs(inputs);
  const weights = await handle.weights();
  const layers = handle.layers;
  const session = await handle.predict(inputs, { outputs: "layers" });
  const unmarked = await handle.predict(inputs);

  const makeTwin = options.twin ?? ((backend: TfjsBackend) => buildTfjsModel(config, weights, { backend }));
  const run = async (backend: TfjsBackend) => {
    const twin = await makeTwin(backend);
    try {
      return { layers: await twin.predict(inputs, layers), stock: options.stockPredict ? await twin.predictStock(inputs) : null };
    } finally {
      await twin.dispose();
    }
  };
  const nodeRun = await run("tensorflow");
  const cpuRun = options.skipCpu ? null : await run("cpu");
  const node = nodeRun.layers;
  const cpu = cpuRun?.layers ?? null;
  // Python eager explains a difference (a graph rewrite in the Session); when there is none it is not needed.
  const indexOf = new Map(layers.map((l, i) => [l.name, i]));
  const allExact =
    layers.every((info, i) => compareArrays(node[i]!, session.outputs[info.name]!, EXACT).maxUlp === 0) &&
    unmarked.names.every((n) => compareArrays(node[indexOf.get(n)!]!, unmarked.outputs[n]!, EXACT).maxUlp === 0);
  const eager = allExact ? session : await handle.predict(inputs, { outputs: "layers", mode: "eager" });
  const cpuTolerance = options.cpuTolerance ?? DEFAULT_CPU_TOLERANCE;

  const feeds = layerInputs(config);
  const configs = new Map(config.config.layers.map((l) => [String(l.config.name), l]));
  const exactOutputs = new Set(handle.inputs.map((i) => i.name));
  const results: LayerParity[] = layers.map((info, i) => {
    const expected = session.outputs[info.name]!;
    const tfjsNode = compareArrays(node[i]!, expected, EXACT);
    const sessionVsEager = compareArrays(expected, eager.outputs[info.name]!, EXACT);
    const eagerExact = compareArrays(node[i]!, eager.outputs[info.name]!, EXACT).maxUlp === 0;
    const inexactInput = (feeds.get(info.layer) ?? []).find((name) => !exactOutputs.has(name));
    const withinInherited = () => compareArrays(node[i]!, expected, INHERITED_TOLERANCE).pass;
    const { reason, cause, pass } = explain(configs.get(info.layer), tfjsNode, eagerExact, sessionVsEager, inexactInput, withinInherited);
    const exact = reason === null;
    if (exact) exactOutputs.add(info.name);
    const cpuComparison = cpu ? compareArrays(cpu[i]!, expected, cpuTolerance) : null;
    return {
      name: info.name,
      layer: info.layer,
      class: info.class,
      tfjsNode,
      cpu: cpuComparison,
      sessionVsEager,
      worstUlpTfjsNode: tfjsNode.maxUlp,
      cpuWorstAbsError: cpuComparison?.maxAbsError ?? null,
      exact,
      inputsExact: inexactInput === undefined,
      reason,
      cause,
      pass: pass && (cpuComparison?.pass ?? true),
    };
  });
  const stockAgainstWalk = (stock: NDArray[] | null | undefined, walked: NDArray[], k: number, i: number) => (stock ? compareArrays(stock[k]!, walked[i]!, EXACT) : undefined);
  const modelOutputs: ModelOutputParity[] = unmarked.names.map((name, k) => {
    const i = indexOf.get(name)!;
    const stock = { stockPredict: stockAgainstWalk(nodeRun.stock, node, k, i), stockPredictCpu: cpu ? stockAgainstWalk(cpuRun?.stock, cpu, k, i) : undefined };
    const stockExact = [stock.stockPredict, stock.stockPredictCpu].every((c) => !c || (c.comparable && c.maxUlp === 0));
    const parity = outputParity(name, i);
    if (stockExact) return { ...stock, ...parity };
    const reason = `TF.js's own predict differs from the layer-by-layer walk (tfjs-node ${stock.stockPredict?.maxUlp} ULP, CPU ${stock.stockPredictCpu?.maxUlp ?? "-"} ULP)`;
    return { ...stock, ...parity, reason: parity.reason ? `${parity.reason}; ${reason}` : reason, pass: false };
  });
  function outputParity(name: string, i: number): ModelOutputParity {
    const tfjsNode = compareArrays(node[i]!, unmarked.outputs[name]!, EXACT);
    const markingChanged = compareArrays(unmarked.outputs[name]!, session.outputs[name]!, EXACT);
    const exact = tfjsNode.comparable && tfjsNode.maxUlp === 0;
    if (exact) return { name, markingChanged, tfjsNode, exact, reason: null, pass: true };
    const layer = results[i]!;
    if (compareArrays(node[i]!, eager.outputs[name]!, EXACT).maxUlp === 0) {
      const reason = `TensorFlow's graph optimizer (Grappler) rewrote the model's own graph (unmarked Session vs Python eager); tfjs-node equals Python eager bit for bit`;
      return { name, markingChanged, tfjsNode, exact, reason, pass: true };
    }
    // Not a graph rewrite: the layer's own explanation (an inherited difference, a bound) holds here too.
    const within = layer.cause === "bound" || layer.cause === "inherited" ? compareArrays(node[i]!, unmarked.outputs[name]!, INHERITED_TOLERANCE).pass : false;
    return { name, markingChanged, tfjsNode, exact, reason: layer.reason ?? "unexplained", pass: within };
  }
  const first = results.find((r) => !r.exact && r.inputsExact);
  const cpuErrors = results.map((r) => r.cpuWorstAbsError).filter((e): e is number => e !== null);
  return {
    model: String(config.config.name ?? "model"),
    inputs: handle.inputs,
    inputShapes: inputs.map((x) => [...x.shape]),
    passed: results.every((r) => r.pass) && modelOutputs.every((o) => o.pass),
    layers: results,
    firstDivergentLayer: first?.layer ?? null,
    modelOutputs,
    markingChangedOutputs: modelOutputs.filter((o) => o.markingChanged.maxUlp !== 0).map((o) => o.name),
    exactLayers: results.filter((r) => r.exact).length,
    worstUlpTfjsNode: Math.max(0, ...results.map((r) => r.worstUlpTfjsNode)),
    cpuWorstAbsError: cpuErrors.length ? Math.max(...cpuErrors) : null,
  };
}

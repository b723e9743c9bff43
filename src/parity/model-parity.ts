import { type KerasModelConfig, nodeInputs, tensorName } from "../models/config.js";
import type { ModelHandle, Prediction, TensorInfo } from "../models/handle.js";
import { uniformFloat32 } from "../random.js";
import { callTensorName, flattenModel } from "../tfjs/flatten.js";
import { type TfjsModel, buildTfjsModel } from "../tfjs/model.js";
import type { TfjsBackend } from "../tfjs/runtime.js";
import { type NDArray, elementCount, ndarray } from "../wire/ndarray.js";
import { type Comparison, type Tolerance, compareArrays, normwise } from "./compare.js";
import { type ParityEnvironment, parityEnvironment } from "./environment.js";
import { OnednnOffWorker } from "./onednn-off.js";
import { type DivergenceCause, EXACT, PROBES, type Probe, type ProbeOutput, type StatedTolerance, type Verdict, bitIdentical, judge } from "./verdict.js";

export { EXACT, INHERITED_TOLERANCE } from "./verdict.js";
export type { DivergenceCause, Probe, StatedTolerance, Verdict } from "./verdict.js";

/** Options of {@link runModelParity}. */
export interface ModelParityOptions {
  /** Inputs in the model's input order; default: seeded from the input signature. */
  inputs?: NDArray[];
  /** Batch size of seeded inputs. Default 2. */
  batch?: number;
  /** Seed of the generated inputs. Default 0. */
  inputSeed?: number;
  /**
   * What you accept on tfjs-node beyond explained differences (default: nothing; every difference must
   * be explained). A layer within it passes with the verdict `within-tolerance`. Its `atol`, when larger,
   * also loosens the JS CPU backend's default.
   */
  tolerance?: StatedTolerance;
  /**
   * Tolerance of the pure-JS CPU backend against the Session, normwise per layer output (see
   * {@link normwise}): every element within `atol + rtol·max|expected|`. Default {@link DEFAULT_CPU_TOLERANCE}.
   */
  cpuTolerance?: Tolerance;
  /** Skip the pure-JS CPU backend (it is ~10–100× slower than tfjs-node). */
  skipCpu?: boolean;
  /** The TF.js model under test on a backend; default: the twin built from the handle's config and weights. */
  twin?: (backend: TfjsBackend) => Promise<TfjsModel>;
  /** Also hold TF.js's own `model.predict` to the layer-by-layer walk, bit for bit, on each backend. */
  stockPredict?: boolean;
  /** The model.json that {@link twin} loads, so the oneDNN-off control runs those very files (default: the twin built from config and weights). */
  twinModelJson?: string;
  /**
   * The control worker with oneDNN off, started when a difference is left that the same worker cannot
   * explain (and closed again) unless given here, e.g. shared by a sweep; `false`: never run one.
   */
  onednnOff?: OnednnOffWorker | false;
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
   * Python's Session against Python eager, same weights: what the graph changed. Eager only runs when
   * some output of the model is not bit-exact; otherwise this compares the Session with itself.
   */
  sessionVsEager: Comparison;
  worstUlpTfjsNode: number;
  cpuWorstAbsError: number | null;
  /** tfjs-node reproduced this output bit for bit. */
  exact: boolean;
  /** Every input of this layer agreed bit for bit on tfjs-node. */
  inputsExact: boolean;
  /** exact, explained (by {@link cause}, with the measured bound in {@link reason}), within the stated tolerance, or fail. */
  verdict: Verdict;
  /** Why the output is not exact, with the measured distance (null when it is). */
  reason: string | null;
  /** The kind of {@link reason}. */
  cause: DivergenceCause;
  /** The Python runs that reproduce tfjs-node bit for bit (each changes one thing: that is the cause). */
  reproducedBy: Probe[];
  pass: boolean;
}

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
  verdict: Verdict;
  cause: DivergenceCause;
  reason: string | null;
  pass: boolean;
}

/** The verdict for one model, layer by layer. */
export interface ModelParityReport {
  model: string;
  inputs: TensorInfo[];
  inputShapes: number[][];
  passed: boolean;
  /** Each runtime's TensorFlow, CPU ISA and oneDNN state: what the verdicts hold for. */
  environment: ParityEnvironment;
  /** The tolerance stated for tfjs-node (null: none; every difference had to be explained). */
  tolerance: StatedTolerance | null;
  layers: LayerParity[];
  /** The first layer whose inputs agree bit for bit on tfjs-node and whose output does not, or that fails. */
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
  /** Layer outputs per verdict. */
  verdicts: Record<Verdict, number>;
  worstUlpTfjsNode: number;
  cpuWorstAbsError: number | null;
}

/**
 * The JS CPU backend's default bound, normwise: 1e-5 + 1e-5·max|expected| per layer output (about 84 ULP
 * of its largest value). NASNetMobile's cells, 190 layers deep, drift 15–50 ULP (2e-5 on values near 8).
 */
export const DEFAULT_CPU_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-5 };

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

/**
 * The tensors each call reads, by the worker's names of per-layer outputs: a shared layer's calls
 * (`dense`, `dense@1`) and the layers inside a nested model (`base/conv`, `base@1/conv`) each with
 * their own inputs, and a nested model's own outputs (`base`, `base@1:1`) reading the inner tensor
 * that is them. Only names in `known` (the model's inputs and listed outputs) are kept.
 */
export function callInputs(config: KerasModelConfig, known: ReadonlySet<string>): Map<string, string[]> {
  const flat = flattenModel(config);
  const feeds = new Map<string, string[]>();
  const add = (call: string, names: string[]) => feeds.set(call, [...new Set([...(feeds.get(call) ?? []), ...names.filter((n) => known.has(n))])]);
  for (const c of flat.calls) add(c.call, c.inputs.map(callTensorName));
  for (const [name, inner] of Object.entries(flat.aliases)) add(name.replace(/:\d+$/, ""), [callTensorName(inner)]);
  return feeds;
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
 * Inputs shaped from the model's signature, the same for the same seed: floats uniform in [-1, 1)
 * (float64 inputs get the same float32 values);
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
    if (embedding || (spec.dtype !== "float32" && spec.dtype !== "float64")) {
      const dim = embedding?.inputDim ?? 10;
      const ids = Array.from(u, (v, i) => (embedding?.maskZero && padded(i) ? 0 : 1 + Math.floor(v * (dim - 1)) % Math.max(1, dim - 1)));
      return spec.dtype === "int64" ? ndarray("int64", shape, BigInt64Array.from(ids, BigInt)) : ndarray("int32", shape, Int32Array.from(ids));
    }
    const maskValue = maskings.get(spec.name);
    const values = Float32Array.from(u, (v, i) => (maskValue !== undefined && padded(i) ? maskValue : v * 2 - 1));
    return spec.dtype === "float64" ? ndarray("float64", shape, Float64Array.from(values)) : ndarray("float32", shape, values);
  });
}


/**
 * Per probe, by output name: Python's every layer output (marked graph) and model outputs (unmarked),
 * and tfjs-node's layer outputs where the probe ran tfjs-node again (absent: the twin's own stand).
 */
type ProbeRuns = Partial<Record<Probe, { layers: Record<string, NDArray>; model: Record<string, NDArray>; tfjs?: Record<string, NDArray> }>>;

function countVerdicts(verdicts: readonly Verdict[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { exact: 0, explained: 0, "within-tolerance": 0, fail: 0 };
  for (const v of verdicts) counts[v]++;
  return counts;
}

/**
 * Runs one model in the Python Session, on tfjs-node and on the pure-JS CPU backend with the very same
 * weights and inputs, and compares **every layer's output** in topological order. A layer that is not
 * bit-exact on tfjs-node is explained by experiment: the model runs again in Python eager, in a Session
 * with graph rewrites off and, if a difference is still left, with oneDNN off in both runtimes; a run
 * under which both runtimes fed the layer the same inputs and agree bit for bit names the cause, and
 * the Session's distance is the bound stated with it (src/parity/verdict.ts). Otherwise a difference is
 * inherited from an input, held to an op-level bound (src/parity/layer-bounds.ts), within the stated
 * tolerance, or a failure named as the first divergent layer.
 * @throws {TfjsUnsupportedModelError} when the model has no TF.js twin (`handle.tfjs`, every layer
 * listed) or TF.js cannot compute it as Keras does; it still runs in Python.
 */
export async function runModelParity(handle: ModelHandle, options: ModelParityOptions = {}): Promise<ModelParityReport> {
  const config = handle.twinConfig();
  const inputs = options.inputs ?? seededModelInputs(config, handle.inputs, options.batch ?? 2, options.inputSeed ?? 0);
  handle.orderInputs(inputs);
  const weights = await handle.weights();
  const layers = handle.layers;
  const environment = await parityEnvironment(await handle.workerInfo());
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
  const indexOf = new Map(layers.map((l, i) => [l.name, i]));
  const allExact =
    layers.every((info, i) => bitIdentical(node[i]!, session.outputs[info.name]!)) &&
    unmarked.names.every((n) => bitIdentical(node[indexOf.get(n)!]!, unmarked.outputs[n]!));

  // The probes run only when something differs, all of them (so a layer's cause never depends on what
  // else in the model differs): the same worker's eager and unoptimized runs, and the oneDNN-off control
  // (seconds to start) wherever either runtime runs oneDNN.
  const probes: ProbeRuns = {};
  const asProbe = (p: Prediction) => ({ layers: p.outputs, model: p.outputs });
  const onednnSomewhere = environment.python.onednn.enabled || environment.tfjsNode.onednn.enabled;
  if (!allExact) {
    probes.eager = asProbe(await handle.predict(inputs, { outputs: "layers", mode: "eager" }));
    probes.unoptimized = asProbe(await handle.predict(inputs, { outputs: "layers", mode: "session-unoptimized" }));
    if (onednnSomewhere && options.onednnOff !== false) {
      const control = options.onednnOff ?? new OnednnOffWorker();
      try {
        // A twin of the caller's own making can only be rerun from its model.json; without one, tfjs-node's side stands.
        const rerunTwin = !options.twin || options.twinModelJson !== undefined;
        const off = await control.run(config, weights, inputs, { layers, modelJson: options.twinModelJson, tfjs: rerunTwin });
        const tfjs = off.tfjsLayers ? Object.fromEntries(layers.map((l, i) => [l.name, off.tfjsLayers![i]!])) : undefined;
        probes["onednn-off"] = { layers: off.layers.outputs, model: off.model.outputs, tfjs };
        probes["onednn-off-unoptimized"] = { layers: off.unoptimized.outputs, model: off.unoptimized.outputs, tfjs };
      } finally {
        if (!options.onednnOff) await control.close();
      }
    }
  }
  const cpuTolerance = options.cpuTolerance ?? { ...DEFAULT_CPU_TOLERANCE, atol: Math.max(DEFAULT_CPU_TOLERANCE.atol, options.tolerance?.atol ?? 0) };
  const configs = new Map(config.config.layers.map((l) => [String(l.config.name), l]));
  const inputNames = new Set(handle.inputs.map((i) => i.name));
  const feeds = callInputs(config, new Set([...inputNames, ...layers.map((l) => l.name)]));

  // Where both runtimes agree under each probe: a probe speaks for a layer only if it fed the layer the
  // same inputs in both.
  const tfjsUnder = (p: Probe, name: string, i: number) => probes[p]?.tfjs?.[name] ?? node[i]!;
  const agrees = new Map(PROBES.map((p) => [p, new Set(layers.filter((l, i) => probes[p] && bitIdentical(tfjsUnder(p, l.name, i), probes[p]!.layers[l.name]!)).map((l) => l.name))]));
  const validProbes = (layer: string, name: string, pick: (p: Probe) => NDArray | undefined) => {
    const sources = feeds.get(layer) ?? [];
    const found: Partial<Record<Probe, ProbeOutput>> = {};
    for (const p of PROBES) {
      const python = probes[p] && pick(p);
      if (python && sources.every((f) => inputNames.has(f) || agrees.get(p)!.has(f))) found[p] = { python, tfjs: probes[p]!.tfjs?.[name] };
    }
    return found;
  };
  const exactOutputs = new Set(inputNames);
  const inexactInputs = new Map<string, string | undefined>();
  const results: LayerParity[] = layers.map((info, i) => {
    const expected = session.outputs[info.name]!;
    const inexactInput = (feeds.get(info.layer) ?? []).find((name) => !exactOutputs.has(name));
    inexactInputs.set(info.name, inexactInput);
    const j = judge({
      actual: node[i]!,
      expected,
      probes: validProbes(info.layer, info.name, (p) => probes[p]!.layers[info.name]),
      inexactInput,
      layerConfig: configs.get(info.layer),
      tolerance: options.tolerance,
    });
    if (j.verdict === "exact") exactOutputs.add(info.name);
    const cpuComparison = cpu ? compareArrays(cpu[i]!, expected, normwise(cpuTolerance, expected)) : null;
    // The JS CPU backend is held to its tolerance whatever tfjs-node's verdict: past it, the layer fails.
    const cpuFails = cpuComparison !== null && !cpuComparison.pass;
    const cpuReason = cpuFails ? `JS CPU backend: max abs ${cpuComparison.maxAbsError.toExponential(2)} beyond ${cpuTolerance.atol} + ${cpuTolerance.rtol}·max|expected| = ${cpuComparison.tolerance.atol.toExponential(2)}` : null;
    return {
      name: info.name,
      layer: info.layer,
      class: info.class,
      tfjsNode: j.comparison,
      cpu: cpuComparison,
      sessionVsEager: compareArrays(expected, probes.eager?.layers[info.name] ?? expected, EXACT),
      worstUlpTfjsNode: j.comparison.maxUlp,
      cpuWorstAbsError: cpuComparison?.maxAbsError ?? null,
      exact: j.verdict === "exact",
      inputsExact: inexactInput === undefined,
      verdict: cpuFails ? "fail" : j.verdict,
      reason: cpuReason ? [j.reason, cpuReason].filter(Boolean).join("; ") : j.reason,
      cause: j.cause,
      reproducedBy: j.reproducedBy,
      pass: j.pass && !cpuFails,
    };
  });
  const stockAgainstWalk = (stock: NDArray[] | null | undefined, walked: NDArray[], k: number, i: number) => (stock ? compareArrays(stock[k]!, walked[i]!, EXACT) : undefined);
  const modelOutputs: ModelOutputParity[] = unmarked.names.map((name, k) => {
    const i = indexOf.get(name)!;
    const layer = results[i]!;
    const j = judge({
      actual: node[i]!,
      expected: unmarked.outputs[name]!,
      probes: validProbes(layer.layer, name, (p) => probes[p]!.model[name]),
      inexactInput: inexactInputs.get(name),
      layerConfig: configs.get(layer.layer),
      tolerance: options.tolerance,
    });
    const markingChanged = compareArrays(unmarked.outputs[name]!, session.outputs[name]!, EXACT);
    const stock = { stockPredict: stockAgainstWalk(nodeRun.stock, node, k, i), stockPredictCpu: cpu ? stockAgainstWalk(cpuRun?.stock, cpu, k, i) : undefined };
    const parity = { name, markingChanged, tfjsNode: j.comparison, exact: j.verdict === "exact", verdict: j.verdict, cause: j.cause, reason: j.reason, pass: j.pass };
    if ([stock.stockPredict, stock.stockPredictCpu].every((c) => !c || (c.comparable && c.maxUlp === 0))) return { ...stock, ...parity };
    const reason = `TF.js's own predict differs from the layer-by-layer walk (tfjs-node ${stock.stockPredict?.maxUlp} ULP, CPU ${stock.stockPredictCpu?.maxUlp ?? "-"} ULP)`;
    return { ...stock, ...parity, verdict: "fail", reason: parity.reason ? `${parity.reason}; ${reason}` : reason, pass: false };
  });
  const first = results.find((r) => (!r.exact && r.inputsExact) || r.verdict === "fail");
  const cpuErrors = results.map((r) => r.cpuWorstAbsError).filter((e): e is number => e !== null);
  return {
    model: String(config.config.name ?? "model"),
    inputs: handle.inputs,
    inputShapes: inputs.map((x) => [...x.shape]),
    passed: results.every((r) => r.pass) && modelOutputs.every((o) => o.pass),
    environment,
    tolerance: options.tolerance ?? null,
    layers: results,
    firstDivergentLayer: first?.layer ?? null,
    modelOutputs,
    markingChangedOutputs: modelOutputs.filter((o) => o.markingChanged.maxUlp !== 0).map((o) => o.name),
    exactLayers: results.filter((r) => r.exact).length,
    verdicts: countVerdicts(results.map((r) => r.verdict)),
    worstUlpTfjsNode: Math.max(0, ...results.map((r) => r.worstUlpTfjsNode)),
    cpuWorstAbsError: cpuErrors.length ? Math.max(...cpuErrors) : null,
  };
}

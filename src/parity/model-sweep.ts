import type { Bridge } from "../bridge.js";
import { TfbridgeError } from "../errors.js";
import type { KerasModelConfig } from "../models/config.js";
import type { ModelHandle, ModelInfo, ModelWeights } from "../models/handle.js";
import { uniformFloat32 } from "../random.js";
import { tfjsInfo } from "../tfjs/runtime.js";
import { type NDArray, elementCount, ndarray } from "../wire/ndarray.js";
import { randomModel } from "./model-generator.js";
import type { ParityEnvironment } from "./environment.js";
import { type DivergenceCause, type ModelParityReport, runModelParity } from "./model-parity.js";
import { OnednnOffWorker } from "./onednn-off.js";
import { REFERENCE_MODELS } from "./reference-models.js";
import type { StatedTolerance, Verdict } from "./verdict.js";

/** One model of a sweep: its name, its config, and the batch of its seeded inputs. */
export interface SweepModel {
  name: string;
  /** A named reference model (its JS CPU error is reported on its own). */
  reference: boolean;
  config: () => KerasModelConfig;
  /** Default 3. */
  batch?: number;
  /**
   * The config's initializers are seeded and are the model's weights (an LSTM spec's: Glorot kernel,
   * orthogonal recurrent kernel, unit forget bias), as its users run it. Otherwise the sweep draws
   * random weights, which can make a long linear or relu recurrence grow without bound.
   */
  seededInitializers?: boolean;
}

/** Options of {@link runModelSweep}. */
export interface ModelSweepOptions {
  /** The models to sweep; default: the named reference models, then {@link count} random architectures. */
  models?: readonly SweepModel[];
  /** How many random models besides the named reference models. Default 12 (a `make test`-sized run). */
  count?: number;
  /** Seed of the random architectures, weights and inputs. Default 0. */
  seed?: number;
  /** Include the named reference models (default true). */
  references?: boolean;
  /** Called before each model, e.g. for a progress line. */
  onModel?: (index: number, total: number, name: string) => void;
  /** What is accepted on tfjs-node beyond explained differences (see {@link ModelParityOptions.tolerance}). */
  tolerance?: StatedTolerance;
}

/** One model of the sweep that did not pass: its name, and why. */
export interface SweepFailure {
  model: string;
  reason: string;
  firstDivergentLayer?: string | null;
}

/** How one layer class fared over a sweep. */
export interface ClassStats {
  outputs: number;
  causes: Partial<Record<DivergenceCause, number>>;
  /** Worst tfjs-node ULP against the Session over outputs whose inputs were bit-identical and no Grappler rewrite applied. */
  worstUlpOwn: number;
  /** The op-level reasons of `bound` outputs. */
  bounds: string[];
}

/** What `tfbridge parity sweep --json` prints. */
export interface ModelSweepSummary {
  /** The TF.js backend and the TensorFlow C library it runs on. */
  backend: string;
  /** Each runtime's CPU ISA and oneDNN state (null when no model got as far as a report). */
  environment: ParityEnvironment | null;
  /** Layer outputs per verdict, over every model. */
  verdicts: Record<Verdict, number>;
  models: number;
  /** Distinct layer classes covered. */
  layerTypes: string[];
  failed: number;
  failures: SweepFailure[];
  /** Models whose every layer output was bit-identical on tfjs-node. */
  exactModels: number;
  /** Models where marking every layer's output changed the Session's own outputs (Grappler fused otherwise). */
  markingChangedModels: number;
  worstUlpTfjsNode: number;
  /** Worst pure-JS CPU absolute error, over the reference models and over all models. */
  cpuWorstAbsError: { reference: number; all: number };
  /** Every layer that was not bit-exact on tfjs-node, with its explanation. */
  inexact: { model: string; layer: string; class: string; ulp: number; reason: string }[];
  /** Per class: outputs compared, how many of each cause, the worst ULP with equal inputs, and bound reasons. */
  classes: Record<string, ClassStats>;
  reports: ModelParityReport[];
}

/**
 * Weights for every layer of a model, uniform in [-0.6, 0.6) from `seed`, with BatchNormalization's
 * moving variance kept positive: trained-looking values rather than initializers' zeros and ones.
 */
export function randomWeights(info: ModelInfo, seed: number): ModelWeights {
  const weights: ModelWeights = {};
  const classOf = new Map(info.layers.map((l) => [l.layer, l.class]));
  info.weights.forEach(({ layer, shapes }, k) => {
    weights[layer] = shapes.map((shape, i) => {
      const values = uniformFloat32(elementCount(shape), seed * 104729 + k * 131 + i, -0.6, 0.6);
      if (classOf.get(layer) === "BatchNormalization" && i === shapes.length - 1) values.forEach((v, j) => (values[j] = 0.5 + Math.abs(v)));
      return ndarray("float32", shape, values) as NDArray<"float32">;
    });
  });
  return weights;
}

async function withRandomWeights(bridge: Bridge, config: KerasModelConfig, seed: number): Promise<ModelHandle> {
  const probe = await bridge.model(config, { seed });
  const weights = randomWeights(probe.info, seed);
  await probe.dispose();
  return bridge.model(config, { weights });
}

/** The models a sweep runs: `options.models`, or the named reference models then `count` random architectures. */
export function sweepModels(options: Pick<ModelSweepOptions, "models" | "count" | "seed" | "references"> = {}): readonly SweepModel[] {
  const seed = options.seed ?? 0;
  return (
    options.models ?? [
      ...Object.entries(options.references === false ? {} : REFERENCE_MODELS).map(([name, config]) => ({ name, reference: true, config })),
      ...Array.from({ length: options.count ?? 12 }, (_, i) => ({ name: `random-${seed}-${i}`, reference: false, config: () => randomModel(seed, i) })),
    ]
  );
}

/** The sweep model `item` (the `i`-th) opened on `bridge`: seeded initializers, or random weights. */
export function openSweepModel(bridge: Bridge, item: SweepModel, seed: number, i: number): Promise<ModelHandle> {
  return item.seededInitializers ? bridge.model(item.config()) : withRandomWeights(bridge, item.config(), seed * 1000 + i);
}

/**
 * The model sweep: the named reference models, then `count` random architectures over the whole
 * layer set, each with random weights, through {@link runModelParity}. Collects which layers were
 * bit-exact on tfjs-node and why the others were not.
 */
export async function runModelSweep(bridge: Bridge, options: ModelSweepOptions = {}): Promise<ModelSweepSummary> {
  const seed = options.seed ?? 0;
  const cases = sweepModels(options);
  const info = await tfjsInfo();
  const summary: ModelSweepSummary = {
    backend: `${info.backend} (TensorFlow ${info.tensorflow}, TF.js ${info.tfjs})`,
    environment: null,
    verdicts: { exact: 0, explained: 0, "within-tolerance": 0, fail: 0 },
    models: cases.length,
    layerTypes: [],
    failed: 0,
    failures: [],
    exactModels: 0,
    markingChangedModels: 0,
    worstUlpTfjsNode: 0,
    cpuWorstAbsError: { reference: 0, all: 0 },
    inexact: [],
    classes: {},
    reports: [],
  };
  const types = new Set<string>();
  // One oneDNN-off control worker for the whole sweep, started by the first model that needs it.
  await using onednnOff = new OnednnOffWorker();
  for (const [i, item] of cases.entries()) {
    options.onModel?.(i, cases.length, item.name);
    let handle: ModelHandle | undefined;
    try {
      const config = item.config();
      config.config.layers.forEach((l) => {
        types.add(l.class_name);
        const inner = l.config.layer as { class_name?: string } | undefined;
        if (inner?.class_name) types.add(inner.class_name);
      });
      handle = await openSweepModel(bridge, item, seed, i);
      const report = await runModelParity(handle, { inputSeed: seed * 1000 + i, batch: item.batch ?? 3, tolerance: options.tolerance, onednnOff });
      report.model = item.name;
      summary.reports.push(report);
      summary.environment ??= report.environment;
      for (const [verdict, n] of Object.entries(report.verdicts) as [Verdict, number][]) summary.verdicts[verdict] += n;
      if (report.layers.every((l) => l.exact)) summary.exactModels++;
      if (report.markingChangedOutputs.length > 0) summary.markingChangedModels++;
      summary.worstUlpTfjsNode = Math.max(summary.worstUlpTfjsNode, report.worstUlpTfjsNode);
      const cpu = report.cpuWorstAbsError ?? 0;
      summary.cpuWorstAbsError.all = Math.max(summary.cpuWorstAbsError.all, cpu);
      if (item.reference) summary.cpuWorstAbsError.reference = Math.max(summary.cpuWorstAbsError.reference, cpu);
      for (const layer of report.layers) {
        const entry = (summary.classes[layer.class] ??= { outputs: 0, causes: {}, worstUlpOwn: 0, bounds: [] });
        entry.outputs++;
        entry.causes[layer.cause] = (entry.causes[layer.cause] ?? 0) + 1;
        if (layer.cause === "bound" || layer.cause === "unexplained") entry.worstUlpOwn = Math.max(entry.worstUlpOwn, layer.worstUlpTfjsNode);
        if (layer.cause === "bound" && !entry.bounds.includes(layer.reason!.split(" (")[0]!)) entry.bounds.push(layer.reason!.split(" (")[0]!);
        if (!layer.exact) summary.inexact.push({ model: item.name, layer: layer.name, class: layer.class, ulp: layer.worstUlpTfjsNode, reason: layer.reason! });
      }
      if (!report.passed) {
        const bad = report.layers.find((l) => !l.pass);
        summary.failures.push({
          model: item.name,
          reason: bad
            ? `${bad.name} (${bad.class}): ${bad.reason ?? `CPU backend off by ${bad.cpuWorstAbsError}`}`
            : report.modelOutputs.filter((o) => !o.pass).map((o) => `model output ${o.name}: ${o.reason}`).join("; "),
          firstDivergentLayer: report.firstDivergentLayer,
        });
      }
    } catch (error) {
      const reason = error instanceof TfbridgeError ? `${error.name}: ${error.message}` : String(error);
      summary.failures.push({ model: item.name, reason });
    } finally {
      await handle?.dispose();
    }
  }
  summary.failed = summary.failures.length;
  summary.layerTypes = [...types].sort();
  return summary;
}

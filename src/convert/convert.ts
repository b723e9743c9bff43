import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Bridge } from "../bridge.js";
import { ConvertError } from "../errors.js";
import { npzModelInputs } from "../models/npz-inputs.js";
import { reportEnvironment } from "../parity/environment.js";
import { parityHtml } from "../parity/html-report.js";
import { type ModelParityReport, runModelParity, seededModelInputs } from "../parity/model-parity.js";
import type { StatedTolerance, Verdict } from "../parity/verdict.js";
import { KERAS3_HARD_SIGMOID, TFBRIDGE_CLASS_PREFIX } from "../tfjs-layers/index.js";
import { buildTfjsModel, loadTfjsModel } from "../tfjs/model.js";
import { loadTfjs } from "../tfjs/runtime.js";
import { forStockExecutor } from "../tfjs/stock-executor.js";
import { TfjsUnsupportedModelError } from "../models/refusal.js";
import { type TfjsLayerConfig, toTfjsGraph, withWrapped } from "../tfjs/topology.js";
import type { NDArray } from "../wire/ndarray.js";
import { writeLayersModel } from "./layers-model-files.js";
import { type SavedModelProof, proveSavedModel } from "./saved-model.js";
import { StagedDir } from "./staging.js";

/** Options of {@link convertModel}. */
export interface ConvertOptions {
  /** The worker to load the model in; default: one started for this conversion (after OUTDIR and IN are checked). */
  bridge?: Bridge;
  /** Pass the worker's stderr through (when this conversion starts its own). */
  forwardStderr?: boolean;
  /** A `.npz` file of inputs (by input name, or in input order) for the proof; default: seeded ones. */
  inputs?: string;
  /** Batch size of seeded inputs. Default 2. */
  batch?: number;
  /** Replace an OUTDIR that exists and is not empty. */
  force?: boolean;
  /** Also write OUTDIR/saved_model (Keras's `model.export`) for `tf.node.loadSavedModel`, and prove it too. */
  savedModel?: boolean;
  /** What is accepted on tfjs-node beyond explained differences (see `ModelParityOptions.tolerance`). */
  tolerance?: StatedTolerance;
}

/** What {@link convertModel} wrote and proved; `--json` prints it without `report`. */
export interface ConversionResult {
  /** Every output within tolerance, with TF.js's own loader and predict. */
  ok: boolean;
  /** OUTDIR, absolute. */
  out: string;
  /** Files written to OUTDIR. */
  files: string[];
  /** Layers in the converted model (InputLayers excluded). */
  layers: number;
  /** tfbridge's TF.js classes the model.json names: load it after `registerKerasLayers(tf)`. */
  customLayers: string[];
  parity: { tfjsNodeWorstUlp: number; cpuWorstAbsError: number | null; firstDivergentLayer: string | null; verdicts: Record<Verdict, number> };
  /** With `savedModel`: the SavedModel on tfjs-node against the Session. */
  savedModel?: SavedModelProof;
  report: ModelParityReport;
}

const SAVED_MODEL_DIR = "saved_model";

/** The line a converted model's users need: how to load it. */
export const LOAD_HINT = `import { registerKerasLayers } from "tfbridge/tfjs-layers"; registerKerasLayers(tf); await tf.loadLayersModel(".../model.json")`;

/** The class names in a topology that are tfbridge's, wrapped layers and activations included. */
function customClasses(layers: readonly TfjsLayerConfig[]): string[] {
  const found = new Set<string>();
  for (const layer of layers.flatMap((entry) => [...withWrapped(entry)])) {
    if (layer.class_name.startsWith(TFBRIDGE_CLASS_PREFIX)) found.add(layer.class_name);
    for (const key of ["activation", "recurrent_activation"]) if (layer.config[key] === KERAS3_HARD_SIGMOID) found.add(KERAS3_HARD_SIGMOID);
  }
  return [...found].sort();
}

/** IN exists and is a model file (not a folder). @throws {ConvertError} */
export function checkInput(input: string): void {
  if (!existsSync(input)) throw new ConvertError(`${input}: no such file`, { file: input });
  if (statSync(input).isDirectory()) {
    const why = existsSync(join(input, "saved_model.pb"))
      ? "is a SavedModel folder: one TensorFlow graph without Keras layers, so no TF.js LayersModel can be made from it; convert the model's .keras file (tf.node.loadSavedModel runs the SavedModel itself in tfjs-node)"
      : "is a folder, not a .keras or .h5 file";
    throw new ConvertError(`${input} ${why}`, { file: input });
  }
}

/**
 * Converts a Keras 3 model file (`.keras`, or `.h5` where Keras 3 reads it) to a TF.js LayersModel in
 * `outDir`, and proves it: the written files are loaded back with TF.js's own `tf.loadLayersModel`
 * on tfjs-node and on the pure-JS CPU backend, run layer by layer and through TF.js's own `predict`,
 * and compared with the Python Session; `parity.json` and `parity.html` go beside the model. Nothing
 * is left in `outDir` unless every step ran (the proof may still fail: see `ok`).
 * @throws {ConvertError} OUTDIR not empty (without `force`) or not writable; a SavedModel folder.
 * @throws {TfjsUnsupportedModelError} listing every layer without a TF.js twin (the model still runs
 * in Python), or TF.js cannot compute as Keras does.
 * @throws {ModelError} a corrupt or unsafe file, weights that do not fit, inputs that do not match.
 */
export async function convertModel(input: string, outDir: string, options: ConvertOptions = {}): Promise<ConversionResult> {
  const staged = new StagedDir(outDir, options.force ?? false, [input, ...(options.inputs ? [options.inputs] : [])]);
  try {
    checkInput(input);
    if (options.inputs !== undefined && !existsSync(options.inputs)) throw new ConvertError(`--inputs ${options.inputs}: no such file`, { file: options.inputs });
    await using owned = options.bridge ? null : await Bridge.start({ forwardStderr: options.forwardStderr });
    const client = options.bridge ?? owned!;
    await using handle = await client.loadModel(input);
    const config = handle.twinConfig();
    const { topology, aliases } = toTfjsGraph(config);
    const inputs: NDArray[] = options.inputs ? await npzModelInputs(client, handle, options.inputs) : seededModelInputs(config, handle.inputs, options.batch ?? 2, 0);
    const weights = await handle.weights();

    const tf = await loadTfjs();
    const twin = await buildTfjsModel(config, weights);
    const customLayers = customClasses(topology.config.layers);
    let files: string[];
    try {
      const stock = forStockExecutor(topology, await twin.maskedInputs(inputs));
      if (stock.reasons.length) throw new TfjsUnsupportedModelError(stock.reasons);
      files = await writeLayersModel(tf, twin.model, stock.topology, staged.path, {
        generatedBy: `keras v${client.info.keras}`,
        convertedBy: "tfbridge convert",
        metadata: { tfbridge: { customLayers, load: LOAD_HINT, ...(Object.keys(aliases).length ? { aliases } : {}) } },
      });
    } finally {
      await twin.dispose();
    }

    const modelJson = join(staged.path, "model.json");
    const report = await runModelParity(handle, {
      inputs,
      stockPredict: true,
      tolerance: options.tolerance,
      twin: (backend) => loadTfjsModel(modelJson, { backend }),
      twinModelJson: modelJson,
    });
    report.model = input;
    const savedModel = options.savedModel ? await proveSavedModel(handle, inputs, join(staged.path, SAVED_MODEL_DIR)) : undefined;
    writeFileSync(join(staged.path, "parity.json"), `${JSON.stringify(savedModel ? { ...report, savedModel } : report, null, 2)}\n`);
    writeFileSync(join(staged.path, "parity.html"), parityHtml(report, await reportEnvironment(client.info), { savedModel }));
    staged.commit();
    const layers = topology.config.layers.filter((l) => l.class_name !== "InputLayer");
    return {
      ok: report.passed && (savedModel?.pass ?? true),
      out: staged.target,
      files: [...files, ...(savedModel ? [`${SAVED_MODEL_DIR}/`] : []), "parity.json", "parity.html"],
      layers: layers.length,
      customLayers,
      parity: { tfjsNodeWorstUlp: report.worstUlpTfjsNode, cpuWorstAbsError: report.cpuWorstAbsError, firstDivergentLayer: report.firstDivergentLayer, verdicts: report.verdicts },
      ...(savedModel ? { savedModel } : {}),
      report,
    };
  } finally {
    staged.discard();
  }
}

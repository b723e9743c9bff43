import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Bridge } from "../bridge.js";
import { ConvertError } from "../errors.js";
import { npzModelInputs } from "../models/npz-inputs.js";
import { loadOnnxRuntime, ONNX_RUNTIMES, type OnnxRuntimeKind } from "../onnx/runtime.js";
import type { Tolerance } from "../parity/compare.js";
import { seededModelInputs } from "../parity/model-parity.js";
import { onnxParityHtml } from "../parity/onnx-html.js";
import { type OnnxParityReport, proveOnnx } from "../parity/onnx-parity.js";
import { onnxReportEnvironment } from "../parity/onnx-report.js";
import { checkInput } from "./convert.js";
import { StagedDir } from "./staging.js";

/** The file `convert --to onnx` writes in OUTDIR. */
export const ONNX_FILE = "model.onnx";

/** Options of {@link convertModelToOnnx}. */
export interface OnnxConvertOptions {
  /** The worker to load the model in; default: one started for this conversion (after OUTDIR and IN are checked). */
  bridge?: Bridge;
  forwardStderr?: boolean;
  /** A `.npz` file of inputs for the proof; default: seeded ones. */
  inputs?: string;
  /** Batch size of seeded inputs. Default 2. */
  batch?: number;
  /** Replace an OUTDIR that exists and is not empty. */
  force?: boolean;
  /** ONNX opset (tf2onnx writes 7–18). Default 17. */
  opset?: number;
  /** The bound per layer output (normwise); default 1e-5 + 1e-5·max|expected| (`DEFAULT_ONNX_TOLERANCE` of `tfbridge/parity`). */
  tolerance?: Tolerance;
  /** The runtimes to prove on; default both. */
  runtimes?: readonly OnnxRuntimeKind[];
}

/** What {@link convertModelToOnnx} wrote and proved. */
export interface OnnxConversionResult {
  /** Every layer and model output within the bound on every runtime. */
  ok: boolean;
  out: string;
  files: string[];
  report: OnnxParityReport;
}

/**
 * Converts a Keras 3 model file to ONNX in `outDir` (`model.onnx`, with tf2onnx in the worker's env
 * from the model's own tf.function: tf2onnx's Keras entry points do not read Keras 3), then proves it
 * layer by layer on onnxruntime-node and onnxruntime-web (WASM) against the Python Session;
 * `parity.json` and `parity.html` go beside it. No TF.js twin is needed. Nothing is left in `outDir`
 * unless every step ran (the proof may still fail: see `ok`).
 * @throws {SetupError} onnxruntime or the worker's ONNX tools are missing (`tfbridge setup --onnx`).
 * @throws {ConvertError} OUTDIR not empty (without `force`); onnxruntime refuses the file.
 * @throws {ModelError} a corrupt or unsafe file; an op tf2onnx cannot convert (named, with its layer); an opset out of range.
 */
export async function convertModelToOnnx(input: string, outDir: string, options: OnnxConvertOptions = {}): Promise<OnnxConversionResult> {
  const staged = new StagedDir(outDir, options.force ?? false, [input, ...(options.inputs ? [options.inputs] : [])]);
  try {
    checkInput(input);
    if (options.inputs !== undefined && !existsSync(options.inputs)) throw new ConvertError(`--inputs ${options.inputs}: no such file`, { file: options.inputs });
    // Before a worker starts: a missing runtime is a setup problem, said at once.
    for (const runtime of options.runtimes ?? ONNX_RUNTIMES) await loadOnnxRuntime(runtime);
    await using owned = options.bridge ? null : await Bridge.start({ forwardStderr: options.forwardStderr });
    const client = options.bridge ?? owned!;
    await using handle = await client.loadModel(input);
    const inputs = options.inputs ? await npzModelInputs(client, handle, options.inputs) : seededModelInputs(handle.config, handle.inputs, options.batch ?? 2, 0);
    const report = await proveOnnx(handle, inputs, { opset: options.opset, tolerance: options.tolerance, runtimes: options.runtimes, keep: join(staged.path, ONNX_FILE) });
    report.model = input;
    writeFileSync(join(staged.path, "parity.json"), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(staged.path, "parity.html"), onnxParityHtml(report, onnxReportEnvironment(client.info, report)));
    staged.commit();
    return { ok: report.passed, out: staged.target, files: [ONNX_FILE, "parity.json", "parity.html"], report };
  } finally {
    staged.discard();
  }
}

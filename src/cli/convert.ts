import { type ConversionResult, LOAD_HINT, convertModel } from "../convert/convert.js";
import { type OnnxConversionResult, convertModelToOnnx } from "../convert/onnx.js";
import { ConvertError, ModelError, SetupError, UsageError } from "../errors.js";
import { formatOnnxParityReport } from "../parity/onnx-report.js";
import { formatModelParityReport } from "../parity/model-report.js";
import { TfjsUnsupportedModelError } from "../models/refusal.js";
import { TOLERANCE_OPTIONS, numberFlag, OPSET_USAGE, onnxToleranceFlags, opsetFlag, parseCommandLine, toleranceFlags, toleranceUsage } from "./args.js";
import type { CommandContext } from "./context.js";

export const CONVERT_USAGE = `usage: tfbridge convert IN OUTDIR [--to tfjs|onnx] [--inputs FILE.npz] [--batch N] [--max-ulp N] [--atol X] [--rtol X] [--saved-model] [--opset N] [--force] [--json]

Converts a Keras 3 model (IN: a .keras file, or a Keras .h5 that Keras 3 reads) to a TF.js LayersModel
in OUTDIR (model.json + weight shards), then proves it: loads OUTDIR back with TF.js's own
tf.loadLayersModel on tfjs-node and on the pure-JS CPU backend, runs every layer and TF.js's own
predict, and compares with the Python Session. OUTDIR also gets parity.json and parity.html (the
report as one self-contained page). Classes TF.js lacks come from tfbridge/tfjs-layers; load with
  ${LOAD_HINT}

With --to onnx, OUTDIR gets model.onnx instead (tf2onnx in the worker's env, from the model's own
tf.function; \`tfbridge setup --onnx\` installs it and onnxruntime), proved layer by layer on
onnxruntime-node and onnxruntime-web (WASM) against the Session: every layer output within
atol + rtol·max|expected| (default 1e-5 + 1e-5·max|expected|; ONNX Runtime's kernels are not
TensorFlow's, so bit-exactness is not expected). No TF.js twin is needed for it.

options:
  --to tfjs|onnx      the target (default tfjs)
  --opset N           with --to onnx: ${OPSET_USAGE}
  --inputs FILE.npz   inputs for the proof, by input name (or in input order); default: seeded ones
  --batch N           batch size of seeded inputs (default 2)
  --saved-model       also write OUTDIR/saved_model (Keras's model.export) for tf.node.loadSavedModel,
                      proved the same way (tfjs-node's TensorFlow C library against the Session)
${toleranceUsage(22)}
  --force             replace an OUTDIR that exists and is not empty
  --json              print { ok, out, layers, customLayers, parity: { tfjsNodeWorstUlp,
                      cpuWorstAbsError, firstDivergentLayer, verdicts } } instead of the report

examples:
  tfbridge convert model.keras web_model/
  tfbridge convert model.keras web_model/ --inputs sample.npz --force --json
  tfbridge convert model.keras onnx_model/ --to onnx

Exit status: 0 when every output agrees within tolerance, 1 when the proof fails, 2 for a bad command
line or an input that cannot be converted (nothing is written then).`;

const OPTIONS = {
  inputs: { type: "string" },
  batch: { type: "string" },
  force: { type: "boolean" },
  "saved-model": { type: "boolean" },
  to: { type: "string" },
  opset: { type: "string" },
  json: { type: "boolean" },
  ...TOLERANCE_OPTIONS,
} as const;

function summary(result: ConversionResult): string {
  const { report: _report, files: _files, savedModel, ...printed } = result;
  const saved = savedModel && { dir: savedModel.dir, worstUlp: savedModel.worstUlp, maxAbsError: savedModel.maxAbsError, pass: savedModel.pass };
  return JSON.stringify(saved ? { ...printed, savedModel: saved } : printed, null, 2);
}

/** The exit status of a conversion that could not run: one line, nothing written, the status of a bad command line. */
function refused(e: unknown): number {
  if (e instanceof ConvertError || e instanceof ModelError || e instanceof TfjsUnsupportedModelError || e instanceof SetupError) {
    process.stderr.write(`tfbridge convert: ${e.name}: ${e.message}\n`);
    return 2;
  }
  throw e;
}

/** `tfbridge convert IN OUTDIR --to onnx`. */
async function convertToOnnx(input: string, out: string, v: { inputs?: string; force?: boolean; json?: boolean; "max-ulp"?: string; "saved-model"?: boolean; atol?: string; rtol?: string; opset?: string }, batch: number | undefined, context: CommandContext): Promise<number> {
  if (v["saved-model"]) throw new UsageError("--saved-model is for --to tfjs");
  const opset = opsetFlag(v.opset);
  const tolerance = onnxToleranceFlags(v);
  let result: OnnxConversionResult;
  try {
    result = await convertModelToOnnx(input, out, { inputs: v.inputs, batch, force: v.force, opset, tolerance, forwardStderr: context.verbose });
  } catch (e) {
    return refused(e);
  }
  const { report } = result;
  if (v.json) {
    const { layers: _layers, modelOutputs: _outputs, ...summary } = report;
    process.stdout.write(`${JSON.stringify({ ok: result.ok, out: result.out, files: result.files, parity: summary }, null, 2)}\n`);
  } else {
    process.stdout.write(`${formatOnnxParityReport(report)}\n\nwrote ${result.files.join(", ")} to ${result.out}\n`);
  }
  return result.ok ? 0 : 1;
}

/** `tfbridge convert IN OUTDIR`; returns the exit status. */
export async function convertCommand(args: string[], context: CommandContext): Promise<number> {
  const { values: v, positionals } = parseCommandLine(args, OPTIONS, ["IN", "OUTDIR"]);
  const batch = numberFlag("batch", v.batch, { integer: true, min: 1 });
  const to = v.to ?? "tfjs";
  if (to !== "tfjs" && to !== "onnx") throw new UsageError(`--to ${to}: the targets are tfjs and onnx`);
  if (to === "onnx") return convertToOnnx(positionals.IN, positionals.OUTDIR, v, batch, context);
  if (v.opset !== undefined) throw new UsageError("--opset is for --to onnx");
  const tolerance = toleranceFlags(v);
  let result: ConversionResult;
  try {
    result = await convertModel(positionals.IN, positionals.OUTDIR, { inputs: v.inputs, batch, force: v.force, savedModel: v["saved-model"], tolerance, forwardStderr: context.verbose });
  } catch (e) {
    return refused(e);
  }
  if (v.json) process.stdout.write(`${summary(result)}\n`);
  else {
    process.stdout.write(`${formatModelParityReport(result.report)}\n\n`);
    process.stdout.write(`wrote ${result.files.join(", ")} to ${result.out}\n`);
    if (result.savedModel) process.stdout.write(`saved_model on tfjs-node (tf.node.loadSavedModel): ${result.savedModel.worstUlp} ULP from the Session${result.savedModel.pass ? "" : " — FAIL"}\n`);
    if (result.customLayers.length) process.stdout.write(`uses tfbridge's TF.js classes ${result.customLayers.join(", ")}: load with\n  ${LOAD_HINT}\n`);
  }
  return result.ok ? 0 : 1;
}

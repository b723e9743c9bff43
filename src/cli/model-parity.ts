import { writeFileSync } from "node:fs";
import { Bridge } from "../bridge.js";
import { ModelError, UsageError } from "../errors.js";
import type { KerasModelConfig } from "../models/config.js";
import type { ModelHandle } from "../models/handle.js";
import { npzModelInputs } from "../models/npz-inputs.js";
import { reportEnvironment } from "../parity/environment.js";
import { parityHtml } from "../parity/html-report.js";
import { lstmSweepModels } from "../parity/lstm-sweep.js";
import { runModelParity, seededModelInputs } from "../parity/model-parity.js";
import { ONNX_RUNTIMES, loadOnnxRuntime } from "../onnx/runtime.js";
import { onnxParityHtml } from "../parity/onnx-html.js";
import { proveOnnx } from "../parity/onnx-parity.js";
import { formatOnnxParityReport, formatOnnxSweep, onnxClassTable, onnxReportEnvironment } from "../parity/onnx-report.js";
import { runOnnxSweep } from "../parity/onnx-sweep.js";
import { formatModelParityReport, formatModelSweep, layerTable } from "../parity/model-report.js";
import { runModelSweep } from "../parity/model-sweep.js";
import { type FlagValues, TOLERANCE_OPTIONS, existingFile, numberFlag, OPSET_USAGE, opsetFlag, outputFile, onnxToleranceFlags, parseCommandLine, readJsonFile, toleranceFlags, toleranceUsage } from "./args.js";
import type { CommandContext } from "./context.js";
import { progressLine } from "./progress.js";

/** The flags of a one-model parity report (`parity model`, `parity lstm`). */
export const PARITY_REPORT_OPTIONS = {
  batch: { type: "string" },
  "input-seed": { type: "string" },
  html: { type: "string" },
  json: { type: "boolean" },
  ...TOLERANCE_OPTIONS,
} as const;

const MODEL_OPTIONS = { inputs: { type: "string" }, runtime: { type: "string" }, opset: { type: "string" }, ...PARITY_REPORT_OPTIONS } as const;

const SWEEP_OPTIONS = {
  lstm: { type: "boolean" },
  runtime: { type: "string" },
  count: { type: "string" },
  seed: { type: "string" },
  markdown: { type: "string" },
  json: { type: "boolean" },
  ...TOLERANCE_OPTIONS,
} as const;

export const MODEL_USAGE = `  --inputs FILE.npz       (model) the inputs, by input name (or in input order); default: seeded from its inputs
  --runtime tfjs|onnx     (model, sweep) onnx: export the model to ONNX (tf2onnx, in a scratch folder) and compare
                          every layer on onnxruntime-node and onnxruntime-web (WASM) instead of TF.js,
                          each within --atol + --rtol·max|expected| (default 1e-5 + 1e-5·max|expected|)
  --opset N               (model, with --runtime onnx) ${OPSET_USAGE}
  --batch N               (model, lstm) batch size of seeded inputs (default 2)
  --input-seed N          (model, lstm) seed of the seeded inputs (default 0)
  --html FILE             (model, lstm) also write the report as one self-contained HTML page (no network)
  --lstm                  (sweep) the 64 LSTM specs instead of the reference and random models
  --count N               (sweep) random models (default 12), or with --lstm that many of the 64 specs
  --seed N                (sweep) seed of the sweep's architectures, weights and inputs (default 0)
  --markdown FILE         (sweep) also write docs/parity.md's layer table (with --runtime onnx: docs/onnx.md's), generated from the sweep, to FILE
  --json                  the report as JSON on stdout
${toleranceUsage(26)}
  --verbose               stacks on errors, TensorFlow's C++ logs and the worker's stderr`;

type ReportValues = FlagValues<typeof PARITY_REPORT_OPTIONS>;

/** The report flags as options, checked: a bad one is a UsageError before any worker starts. */
export function reportOptions(v: ReportValues) {
  if (v.html !== undefined) outputFile("--html", v.html);
  return {
    batch: numberFlag("batch", v.batch, { integer: true, min: 1 }),
    inputSeed: numberFlag("input-seed", v["input-seed"], { integer: true, min: 0 }),
    tolerance: toleranceFlags(v),
  };
}

/**
 * Opens a model on a new worker, runs the model parity on it and prints the report; the exit status.
 * `inputsFile` (a .npz) gives the inputs instead of seeded ones.
 */
export async function parityOf(v: ReportValues, context: CommandContext, label: string, open: (bridge: Bridge) => Promise<ModelHandle>, inputsFile?: string): Promise<number> {
  const options = reportOptions(v);
  await using bridge = await Bridge.start({ forwardStderr: context.verbose });
  await using handle = await open(bridge);
  const inputs = inputsFile ? await npzModelInputs(bridge, handle, inputsFile).catch(asUsageError) : undefined;
  const report = await runModelParity(handle, { ...options, inputs });
  report.model = label;
  if (v.html) writeFileSync(v.html, parityHtml(report, await reportEnvironment(bridge.info)));
  process.stdout.write(`${v.json ? JSON.stringify(report, null, 2) : formatModelParityReport(report)}\n`);
  return report.passed ? 0 : 1;
}

/** `parity model FILE --runtime onnx`: the model through tf2onnx, proved on onnxruntime; nothing is written but --html. */
async function onnxParityOf(v: ReportValues & { opset?: string }, context: CommandContext, label: string, open: (bridge: Bridge) => Promise<ModelHandle>, inputsFile?: string): Promise<number> {
  const { batch, inputSeed } = reportOptions({ ...v, "max-ulp": undefined });
  const tolerance = onnxToleranceFlags(v);
  const opset = opsetFlag(v.opset);
  for (const runtime of ONNX_RUNTIMES) await loadOnnxRuntime(runtime); // a setup problem, said before a worker starts
  await using bridge = await Bridge.start({ forwardStderr: context.verbose });
  await using handle = await open(bridge);
  const inputs = inputsFile ? await npzModelInputs(bridge, handle, inputsFile).catch(asUsageError) : seededModelInputs(handle.config, handle.inputs, batch ?? 2, inputSeed ?? 0);
  const report = await proveOnnx(handle, inputs, { opset, tolerance });
  report.model = label;
  if (v.html) writeFileSync(v.html, onnxParityHtml(report, onnxReportEnvironment(bridge.info, report)));
  process.stdout.write(`${v.json ? JSON.stringify(report, null, 2) : formatOnnxParityReport(report)}\n`);
  return report.passed ? 0 : 1;
}

/** An --inputs file that does not fit the model is a bad command line (exit status 2), as in convert. */
function asUsageError(e: unknown): never {
  throw e instanceof ModelError ? new UsageError(`--inputs ${e.message}`) : e;
}

/** `tfbridge parity model FILE`: per-layer parity of one model; returns the exit status. */
export async function modelParityCommand(args: string[], context: CommandContext): Promise<number> {
  const { values: v, positionals } = parseCommandLine(args, MODEL_OPTIONS, ["FILE"]);
  const runtime = v.runtime ?? "tfjs";
  if (runtime !== "tfjs" && runtime !== "onnx") throw new UsageError(`--runtime ${runtime}: the runtimes are tfjs and onnx`);
  if (runtime === "onnx") {
    onnxToleranceFlags(v);
    opsetFlag(v.opset);
  }
  else if (v.opset !== undefined) throw new UsageError("--opset is for --runtime onnx");
  reportOptions(runtime === "onnx" ? { ...v, "max-ulp": undefined } : v); // every flag is checked before the files
  const file = existingFile("model", positionals.FILE);
  if (v.inputs) existingFile("--inputs", v.inputs);
  const config = file.endsWith(".json") ? (readJsonFile("model", file) as KerasModelConfig) : null;
  const open = (bridge: Bridge) => (config ? bridge.model(config) : bridge.loadModel(file));
  return runtime === "onnx" ? onnxParityOf(v, context, file, open, v.inputs) : parityOf(v, context, file, open, v.inputs);
}

/** `tfbridge parity sweep --runtime onnx`: the same models through tf2onnx, per layer class on ONNX Runtime. */
async function onnxSweepCommand(v: FlagValues<typeof SWEEP_OPTIONS>, count: number | undefined, seed: number | undefined, context: CommandContext): Promise<number> {
  if (toleranceFlags(v)) throw new UsageError("the ONNX sweep measures distances: --max-ulp, --atol and --rtol do not apply");
  for (const runtime of ONNX_RUNTIMES) await loadOnnxRuntime(runtime);
  await using bridge = await Bridge.start({ forwardStderr: context.verbose });
  const progress = progressLine("onnx sweep", context);
  const summary = await runOnnxSweep(bridge, { models: v.lstm ? lstmSweepModels(count) : undefined, count, seed, onModel: (i, n, name) => progress.update(`${i + 1}/${n} ${name}`) });
  progress.done();
  if (v.markdown) writeFileSync(v.markdown, `${onnxClassTable(summary)}\n`);
  process.stdout.write(`${v.json ? JSON.stringify(summary) : formatOnnxSweep(summary)}\n`);
  return summary.failed === 0 ? 0 : 1;
}

/** `tfbridge parity sweep`: the reference and random models, or the LSTM specs; returns the exit status. */
export async function sweepCommand(args: string[], context: CommandContext): Promise<number> {
  const { values: v } = parseCommandLine(args, SWEEP_OPTIONS, []);
  const count = numberFlag("count", v.count, { integer: true, min: v.lstm ? 1 : 0 });
  const seed = numberFlag("seed", v.seed, { integer: true, min: 0 });
  if (v.markdown !== undefined) outputFile("--markdown", v.markdown);
  const runtime = v.runtime ?? "tfjs";
  if (runtime !== "tfjs" && runtime !== "onnx") throw new UsageError(`--runtime ${runtime}: the runtimes are tfjs and onnx`);
  if (runtime === "onnx") return onnxSweepCommand(v, count, seed, context);
  const tolerance = toleranceFlags(v);
  await using bridge = await Bridge.start({ forwardStderr: context.verbose });
  const label = v.lstm ? "lstm sweep" : "model sweep";
  const progress = progressLine(label, context);
  const models = v.lstm ? lstmSweepModels(count) : undefined;
  const summary = await runModelSweep(bridge, { models, count, seed, tolerance, onModel: (i, n, name) => progress.update(`${i + 1}/${n} ${name}`) });
  progress.done();
  if (v.markdown) writeFileSync(v.markdown, `${layerTable(summary)}\n`);
  const { reports, ...totals } = summary;
  process.stdout.write(`${v.json ? JSON.stringify({ ...totals, reports: reports.map(({ layers, ...r }) => ({ ...r, layers: layers.map((l) => ({ name: l.name, class: l.class, worstUlpTfjsNode: l.worstUlpTfjsNode, cpuWorstAbsError: l.cpuWorstAbsError, exact: l.exact, verdict: l.verdict, cause: l.cause, reason: l.reason })) })) }) : formatModelSweep(summary)}\n`);
  return summary.failed === 0 ? 0 : 1;
}

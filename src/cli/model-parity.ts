import { writeFileSync } from "node:fs";
import { Bridge } from "../bridge.js";
import { ModelError, UsageError } from "../errors.js";
import type { KerasModelConfig } from "../models/config.js";
import { npzModelInputs } from "../models/npz-inputs.js";
import { reportEnvironment } from "../parity/environment.js";
import { parityHtml } from "../parity/html-report.js";
import { runModelParity } from "../parity/model-parity.js";
import { formatModelParityReport, formatModelSweep, layerTable } from "../parity/model-report.js";
import { runModelSweep } from "../parity/model-sweep.js";
import { type FlagValues, TOLERANCE_OPTIONS, toleranceUsage, existingFile, numberFlag, readJsonFile, toleranceFlags } from "./args.js";
import type { CommandContext } from "./context.js";
import { progressLine } from "./progress.js";

/** The flags of the two model modes of `tfbridge parity`; parity.ts merges them into its own. */
export const MODEL_OPTIONS = {
  model: { type: "string" },
  "model-sweep": { type: "boolean" },
  inputs: { type: "string" },
  count: { type: "string" },
  markdown: { type: "string" },
  html: { type: "string" },
  ...TOLERANCE_OPTIONS,
} as const;

export const MODEL_USAGE = `       tfbridge parity --model FILE [--inputs FILE.npz] [--batch N] [--input-seed N] [--max-ulp N] [--atol X] [--rtol X] [--html FILE] [--json]
       tfbridge parity --model-sweep [--count N] [--seed N] [--max-ulp N] [--atol X] [--rtol X] [--markdown FILE] [--json]

model options:
  --model FILE            a .keras or Keras .h5 file, or a model config as JSON (model.to_json()); every
                          layer's output is compared between the Python Session, tfjs-node and the JS CPU backend
  --inputs FILE.npz       the inputs, by input name (or in input order); default: seeded from the model's inputs
  --html FILE             also write the report as one self-contained HTML page (charts, no network)
  --model-sweep           the named reference models plus --count random architectures over the layer set
  --count N               random models in the sweep (default 12; the full run is --count 300)
  --seed N                seed of the sweep's architectures, weights and inputs (default 0)
  --markdown FILE         also write docs/parity.md's layer table, generated from the sweep, to FILE
  with --model or --model-sweep:
${toleranceUsage(26)}
  A layer that is not bit-identical is explained by experiment where it can be (oneDNN's kernels,
  Grappler's rewrites, an input's difference, an op TF.js lacks): explained is not a failure.`;

type ModelValues = FlagValues<typeof MODEL_OPTIONS> & { batch?: string; "input-seed"?: string; seed?: string; json?: boolean };

/** An --inputs file that does not fit the model is a bad command line (exit status 2), as in convert. */
function asUsageError(e: unknown): never {
  throw e instanceof ModelError ? new UsageError(`--inputs ${e.message}`) : e;
}

/** `tfbridge parity --model FILE`: per-layer parity of one model; returns the exit status. */
export async function modelParityCommand(v: ModelValues, context: CommandContext): Promise<number> {
  const batch = numberFlag("batch", v.batch, { integer: true, min: 1 });
  const inputSeed = numberFlag("input-seed", v["input-seed"], { integer: true, min: 0 });
  const tolerance = toleranceFlags(v);
  const file = existingFile("--model", v.model!);
  if (v.inputs) existingFile("--inputs", v.inputs);
  const config = file.endsWith(".json") ? (readJsonFile("model", file) as KerasModelConfig) : null;
  await using bridge = await Bridge.start({ forwardStderr: context.verbose });
  await using handle = config ? await bridge.model(config) : await bridge.loadModel(file);
  const inputs = v.inputs ? await npzModelInputs(bridge, handle, v.inputs).catch(asUsageError) : undefined;
  const report = await runModelParity(handle, { inputs, batch, inputSeed, tolerance });
  report.model = file;
  if (v.html) writeFileSync(v.html, parityHtml(report, await reportEnvironment(bridge.info)));
  process.stdout.write(`${v.json ? JSON.stringify(report, null, 2) : formatModelParityReport(report)}\n`);
  return report.passed ? 0 : 1;
}

/** `tfbridge parity --model-sweep`: the reference and random models; returns the exit status. */
export async function modelSweepCommand(v: ModelValues, context: CommandContext): Promise<number> {
  const count = numberFlag("count", v.count, { integer: true, min: 0 });
  const seed = numberFlag("seed", v.seed, { integer: true, min: 0 });
  const tolerance = toleranceFlags(v);
  await using bridge = await Bridge.start({ forwardStderr: context.verbose });
  const progress = progressLine("model sweep", context);
  const summary = await runModelSweep(bridge, { count, seed, tolerance, onModel: (i, n, name) => progress.update(`${i + 1}/${n} ${name}`) });
  progress.done();
  if (v.markdown) writeFileSync(v.markdown, `${layerTable(summary)}\n`);
  const { reports, ...totals } = summary;
  process.stdout.write(`${v.json ? JSON.stringify({ ...totals, reports: reports.map(({ layers, ...r }) => ({ ...r, layers: layers.map((l) => ({ name: l.name, class: l.class, worstUlpTfjsNode: l.worstUlpTfjsNode, cpuWorstAbsError: l.cpuWorstAbsError, exact: l.exact, verdict: l.verdict, cause: l.cause, reason: l.reason })) })) }) : formatModelSweep(summary)}\n`);
  return summary.failed === 0 ? 0 : 1;
}

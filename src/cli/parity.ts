import { Bridge } from "../bridge.js";
import { SpecError, UsageError } from "../errors.js";
import { runParity } from "../parity/engine.js";
import { formatParityReport } from "../parity/report.js";
import { formatSweep, runSweep, sampleCases, sweepCases } from "../parity/sweep.js";
import { type Activation, type LstmSpec, resolveLstmSpec } from "../lstm/spec.js";
import { type FlagValues, TOLERANCE_OPTIONS, numberFlag, parseFlags, readJsonFile } from "./args.js";
import type { CommandContext } from "./context.js";
import { MODEL_OPTIONS, MODEL_USAGE, modelParityCommand, modelSweepCommand } from "./model-parity.js";
import { progressLine } from "./progress.js";

export const PARITY_USAGE = `usage: tfbridge parity [--spec FILE.json | spec flags] [--batch N] [--input-seed N] [--atol X] [--rtol X] [--json]
       tfbridge parity --sweep [--count N] [--json]
${MODEL_USAGE}

Runs one LSTM spec in the Python worker's v1 Session and, with the same weights, in TF.js (tfjs-node,
the JS CPU backend, the worker's SavedModel on tfjs-node), and compares every output.

options:
  --spec FILE.json        the spec as JSON (protocol/lstm-spec.json); spec flags override it
  --units N --timesteps N --features N --activation A --recurrent-activation A --seed N
  --return-sequences --return-state --go-backwards --no-bias --no-unit-forget-bias
  --batch N               input batch size (default 2)
  --input-seed N          seed of the uniform [0, 1) input
  --atol X --rtol X       tolerance of tfjs-node, layers and SavedModel (default 0/0: bit-for-bit);
                          the JS CPU backend keeps 1e-5/0
  --sweep                 64 specs over units, timesteps, features, batch, flags and activations
                          (its own specs: no spec flags with it); --count N runs N of them, spread
                          evenly over the matrix
  --json                  the report as JSON on stdout
  --verbose               stacks on errors, TensorFlow's C++ logs and the worker's stderr

examples:
  tfbridge parity --units 64 --timesteps 100 --features 16 --return-sequences --batch 32
  tfbridge parity --spec my-spec.json --json
  tfbridge parity --sweep

Exit status: 0 when every runtime agrees within tolerance, 1 when not, 2 for a bad command line.`;

const OPTIONS = {
  spec: { type: "string" },
  units: { type: "string" },
  timesteps: { type: "string" },
  features: { type: "string" },
  activation: { type: "string" },
  "recurrent-activation": { type: "string" },
  "return-sequences": { type: "boolean" },
  "return-state": { type: "boolean" },
  "go-backwards": { type: "boolean" },
  "no-bias": { type: "boolean" },
  "no-unit-forget-bias": { type: "boolean" },
  seed: { type: "string" },
  batch: { type: "string" },
  "input-seed": { type: "string" },
  sweep: { type: "boolean" },
  json: { type: "boolean" },
  ...MODEL_OPTIONS,
} as const;

type Values = FlagValues<typeof OPTIONS>;

/** The spec from --spec FILE, or from the flags (flags override the file). */
export function specFromFlags(v: Values): LstmSpec {
  const base = v.spec ? readJsonFile("spec", v.spec) : {};
  if (base === null || typeof base !== "object" || Array.isArray(base)) throw new UsageError(`--spec ${v.spec} must hold a JSON object`);
  const spec: Record<string, unknown> = { ...base };
  const units = numberFlag("units", v.units);
  const timesteps = numberFlag("timesteps", v.timesteps);
  const features = numberFlag("features", v.features);
  if (units !== undefined) spec.units = units;
  if (timesteps !== undefined || features !== undefined || !spec.inputShape) {
    const [t, f] = (spec.inputShape as [number, number] | undefined) ?? [10, 1];
    spec.inputShape = [timesteps ?? t, features ?? f];
  }
  spec.units ??= 32;
  if (v.activation) spec.activation = v.activation as Activation;
  if (v["recurrent-activation"]) spec.recurrentActivation = v["recurrent-activation"] as Activation;
  if (v["return-sequences"]) spec.returnSequences = true;
  if (v["return-state"]) spec.returnState = true;
  if (v["go-backwards"]) spec.goBackwards = true;
  if (v["no-bias"]) spec.useBias = false;
  if (v["no-unit-forget-bias"]) spec.unitForgetBias = false;
  const seed = numberFlag("seed", v.seed);
  if (seed !== undefined) spec.seed = seed;
  try {
    resolveLstmSpec(spec); // a bad spec fails here, before a worker is started
  } catch (e) {
    if (e instanceof SpecError) throw new UsageError(`bad spec${v.spec ? ` (--spec ${v.spec} and flags)` : ""}: ${e.message}`);
    throw e;
  }
  return spec as unknown as LstmSpec;
}

/** `tfbridge parity`: checks the whole command line, then starts a worker; returns the exit status. */
export async function parityCommand(args: string[], context: CommandContext): Promise<number> {
  const v = parseFlags(args, OPTIONS);
  const write = (s: string) => process.stdout.write(`${s}\n`);
  const modes = (["sweep", "model", "model-sweep"] as const).filter((k) => v[k] !== undefined);
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} cannot be combined`);
  if (v.model !== undefined || v["model-sweep"]) {
    const tolerance = Object.keys(TOLERANCE_OPTIONS);
    const allowed = v.model !== undefined ? ["model", "inputs", "batch", "input-seed", "html", "json", ...tolerance] : ["model-sweep", "count", "seed", "markdown", "json", ...tolerance];
    const conflicting = Object.keys(v).filter((k) => !allowed.includes(k));
    if (conflicting.length > 0) throw new UsageError(`--${modes[0]} cannot be combined with ${conflicting.map((k) => `--${k}`).join(", ")}`);
    return v.model !== undefined ? modelParityCommand(v, context) : modelSweepCommand(v, context);
  }
  const stray = (["inputs", "markdown", "html", "max-ulp"] as const).filter((k) => v[k] !== undefined);
  if (stray.length > 0) throw new UsageError(`--${stray[0]} needs --model${stray[0] === "markdown" ? "-sweep" : stray[0] === "max-ulp" ? " or --model-sweep" : ""}`);
  if (v.count !== undefined && !v.sweep) throw new UsageError("--count needs --sweep or --model-sweep");
  if (v.sweep) {
    const conflicting = Object.keys(v).filter((k) => k !== "sweep" && k !== "json" && k !== "count");
    if (conflicting.length > 0) throw new UsageError(`--sweep runs its own specs; it cannot be combined with ${conflicting.map((k) => `--${k}`).join(", ")}`);
    const count = numberFlag("count", v.count, { integer: true, min: 1 });
    await using bridge = await Bridge.start({ forwardStderr: context.verbose });
    const progress = progressLine("parity sweep", context);
    const summary = await runSweep(bridge, sampleCases(sweepCases(), count), (_, i, n) => progress.update(`${i + 1}/${n} specs`));
    progress.done();
    write(v.json ? JSON.stringify(summary) : formatSweep(summary));
    return summary.failed === 0 ? 0 : 1;
  }
  const spec = specFromFlags(v);
  const batch = numberFlag("batch", v.batch, { integer: true, min: 1 });
  const inputSeed = numberFlag("input-seed", v["input-seed"], { integer: true, min: 0 });
  const atol = numberFlag("atol", v.atol, { min: 0 });
  const rtol = numberFlag("rtol", v.rtol, { min: 0 });
  const tolerance = atol === undefined && rtol === undefined ? undefined : { atol: atol ?? 0, rtol: rtol ?? 0 };
  await using bridge = await Bridge.start({ forwardStderr: context.verbose });
  const report = await runParity(bridge, spec, {
    batch,
    inputSeed,
    tolerance: tolerance && { "tfjs-node": tolerance, "tfjs-node-savedmodel": tolerance },
  });
  write(v.json ? JSON.stringify(report, null, 2) : formatParityReport(report));
  return report.pass ? 0 : 1;
}

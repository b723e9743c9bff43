import { Bridge } from "../bridge.js";
import { SpecError, UsageError } from "../errors.js";
import { type Activation, type LstmSpec, lstmModel, resolveLstmSpec } from "../models/lstm-spec.js";
import { type FlagValues, numberFlag, parseCommandLine, readJsonFile } from "./args.js";
import type { CommandContext } from "./context.js";
import { didYouMean } from "./suggest.js";
import { MODEL_USAGE, PARITY_REPORT_OPTIONS, modelParityCommand, parityOf, sweepCommand } from "./model-parity.js";

export const PARITY_USAGE = `usage: tfbridge parity model FILE [--inputs FILE.npz] [report options]
       tfbridge parity lstm [--spec FILE.json | spec flags] [report options]
       tfbridge parity sweep [--lstm] [--count N] [--seed N] [--markdown FILE] [tolerance] [--json]

Runs a model in the Python worker's v1 Session and, with the same weights, in TF.js (tfjs-node and the
JS CPU backend), and compares every layer's output; a difference is explained by its cause (oneDNN's
kernels, Grappler's rewrites, an input's difference, an op's own bound) or fails.

subcommands:
  model FILE              a .keras or Keras .h5 file, or a model config as JSON (model.to_json())
  lstm                    the seed's LSTM as a one-layer model, from a spec (--spec FILE.json) or flags:
    --units N --timesteps N --features N --activation A --recurrent-activation A --seed N
    --return-sequences --return-state --go-backwards --no-bias --no-unit-forget-bias
  sweep                   the named reference models plus --count random architectures (default 12;
                          the full run is --count 300); --lstm: the 64 LSTM specs instead (--count N of them)

options:
${MODEL_USAGE}

examples:
  tfbridge parity model my-model.keras --html parity.html
  tfbridge parity lstm --units 64 --timesteps 100 --features 16 --return-sequences --batch 32
  tfbridge parity sweep --count 300 --markdown layer-table.md

The forms before subcommands still work: --model FILE (model), --model-sweep (sweep), --sweep
(sweep --lstm), spec flags alone (lstm).
Exit status: 0 when every layer is exact, explained or within tolerance, 1 when not, 2 for a bad command line.`;

const LSTM_OPTIONS = {
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
  ...PARITY_REPORT_OPTIONS,
} as const;

/** The spec from --spec FILE, or from the flags (flags override the file). */
export function specFromFlags(v: FlagValues<typeof LSTM_OPTIONS>): LstmSpec {
  const file = v.spec;
  const base = file ? readJsonFile("spec", file) : {};
  if (base === null || typeof base !== "object" || Array.isArray(base)) throw new UsageError(`--spec ${file} must hold a JSON object`);
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
    if (e instanceof SpecError) throw new UsageError(`bad spec${file ? ` (--spec ${file} and flags)` : ""}: ${e.message}`);
    throw e;
  }
  return spec as unknown as LstmSpec;
}

/** `tfbridge parity lstm`: the spec as a one-layer model through the model parity. */
async function lstmParityCommand(args: string[], context: CommandContext): Promise<number> {
  const { values: v } = parseCommandLine(args, LSTM_OPTIONS, []);
  const spec = specFromFlags(v);
  const { config, weights, resolved } = lstmModel(spec);
  const label = `lstm units=${resolved.units} inputShape=[${resolved.inputShape}] activation=${resolved.activation} recurrentActivation=${resolved.recurrentActivation}`;
  return parityOf(v, context, label, (bridge: Bridge) => bridge.model(config, { weights, seed: resolved.seed }));
}

const SUBCOMMANDS: Record<string, (args: string[], context: CommandContext) => Promise<number>> = {
  model: modelParityCommand,
  lstm: lstmParityCommand,
  sweep: sweepCommand,
};

/** The subcommand an older command line (flags only) meant, and its arguments. */
function olderForm(args: string[]): [string, string[]] {
  const at = (flag: string) => args.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  const model = at("--model");
  if (model >= 0) {
    const inline = args[model]!.includes("=");
    const file = inline ? args[model]!.slice("--model=".length) : args[model + 1];
    if (file === undefined) throw new UsageError("--model needs a value");
    return ["model", [file, ...args.filter((_, i) => i !== model && (inline || i !== model + 1))]];
  }
  if (at("--model-sweep") >= 0) return ["sweep", args.filter((a) => a !== "--model-sweep")];
  if (at("--sweep") >= 0) return ["sweep", ["--lstm", ...args.filter((a) => a !== "--sweep")]];
  return ["lstm", args];
}

/** `tfbridge parity`: checks the whole command line, then starts a worker; returns the exit status. */
export async function parityCommand(args: string[], context: CommandContext): Promise<number> {
  const [first, ...rest] = args;
  if (first !== undefined && !first.startsWith("-")) {
    // Own names only: `parity toString` is not Object's.
    const run = Object.hasOwn(SUBCOMMANDS, first) ? SUBCOMMANDS[first] : undefined;
    if (!run) throw new UsageError(`unknown subcommand ${JSON.stringify(first)}${didYouMean(first, Object.keys(SUBCOMMANDS)) || " (model, lstm or sweep)"}`);
    return run(rest, context);
  }
  const [name, meant] = olderForm(args);
  return SUBCOMMANDS[name]!(meant, context);
}

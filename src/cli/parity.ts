import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Bridge } from "../bridge.js";
import { resolveLstmSpec } from "../spec/lstm.js";
import { SpecError } from "../errors.js";
import type { Activation, LstmSpec } from "../spec/lstm.js";
import { runParity } from "../parity/engine.js";
import { formatParityReport } from "../parity/report.js";
import { formatSweep, runSweep } from "../parity/sweep.js";

export const PARITY_USAGE = `usage: tfbridge parity [--spec FILE.json | spec flags] [--batch N] [--input-seed N] [--atol X] [--rtol X] [--json]
       tfbridge parity --sweep [--json]

spec flags: --units N --timesteps N --features N --activation A --recurrent-activation A
            --return-sequences --return-state --go-backwards --no-bias --no-unit-forget-bias --seed N
--atol/--rtol set the tolerance of tfjs-node, layers and SavedModel (default 0/0: bit-for-bit); the JS CPU backend keeps 1e-5/0.
Exit status: 0 when every runtime agrees within tolerance, 1 when not.`;

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
  atol: { type: "string" },
  rtol: { type: "string" },
  sweep: { type: "boolean" },
  json: { type: "boolean" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new SpecError(`--${flag}`, `must be a number, got ${JSON.stringify(value)}`);
  return n;
}

/** The spec from --spec FILE, or from the flags (flags override the file). */
export function specFromFlags(v: Values): LstmSpec {
  const base: Partial<LstmSpec> = v.spec ? JSON.parse(readFileSync(v.spec, "utf8")) : {};
  const spec: Record<string, unknown> = { ...base };
  const units = number("units", v.units);
  const timesteps = number("timesteps", v.timesteps);
  const features = number("features", v.features);
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
  const seed = number("seed", v.seed);
  if (seed !== undefined) spec.seed = seed;
  return spec as unknown as LstmSpec;
}

/** `tfbridge parity`: checks the arguments, then starts a worker; returns the exit status. */
export async function parityCommand(args: string[]): Promise<number> {
  const { values: v } = parseArgs({ args, options: OPTIONS, strict: true });
  const write = (s: string) => process.stdout.write(`${s}\n`);
  const spec = v.sweep ? undefined : specFromFlags(v);
  if (spec) resolveLstmSpec(spec); // a bad spec fails here, before a worker is started
  await using bridge = await Bridge.start();
  if (!spec) {
    const progress = (_: unknown, i: number, n: number) => process.stderr.write(`\rparity sweep: ${i + 1}/${n} specs`);
    const summary = await runSweep(bridge, undefined, progress);
    process.stderr.write("\n");
    write(v.json ? JSON.stringify(summary) : formatSweep(summary));
    return summary.failed === 0 ? 0 : 1;
  }
  const atol = number("atol", v.atol);
  const rtol = number("rtol", v.rtol);
  const report = await runParity(bridge, spec, {
    batch: number("batch", v.batch),
    inputSeed: number("input-seed", v["input-seed"]),
    tolerance: atol === undefined && rtol === undefined ? undefined : { "tfjs-node": { atol: atol ?? 0, rtol: rtol ?? 0 }, "tfjs-node-savedmodel": { atol: atol ?? 0, rtol: rtol ?? 0 } },
  });
  write(v.json ? JSON.stringify(report, null, 2) : formatParityReport(report));
  return report.pass ? 0 : 1;
}

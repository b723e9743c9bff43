import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "../errors.js";
import { ONNX_OPSETS } from "../models/schema.js";
import type { Tolerance } from "../parity/compare.js";
import { DEFAULT_ONNX_TOLERANCE } from "../parity/onnx-parity.js";
import type { StatedTolerance } from "../parity/verdict.js";
import { didYouMean } from "./suggest.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The parsed flags: booleans for boolean options, strings for the others (none of ours repeat). */
export type FlagValues<T extends Options> = { [K in keyof T]?: T[K]["type"] extends "boolean" ? boolean : string };

/** The option a parseArgs error is about, e.g. `--units`. */
function optionIn(message: string): string {
  return /'(--?[\w-]+)/.exec(message)?.[1] ?? "an option";
}

/**
 * node:util's parseArgs, strict, with its errors (several sentences of advice, a Node error code)
 * turned into one-line {@link UsageError}s.
 */
export function parseFlags<const T extends Options>(args: string[], options: T): FlagValues<T> {
  return parseCommandLine(args, options, []).values;
}

/**
 * {@link parseFlags} for a command that also takes the positional arguments `names` (all required),
 * in any order with the flags; a missing or extra one is a {@link UsageError}.
 */
export function parseCommandLine<const T extends Options, const N extends string>(args: string[], options: T, names: readonly N[]): { values: FlagValues<T>; positionals: Record<N, string> } {
  let parsed: { values: unknown; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: names.length > 0 });
  } catch (e) {
    const { code, message } = e as { code?: string; message: string };
    const option = optionIn(message);
    switch (code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
        throw new UsageError(`unknown option ${option}${didYouMean(option.replace(/^-+/, ""), Object.keys(options), (o) => `--${o}`)}`);
      case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
        throw new UsageError(`unexpected argument ${JSON.stringify(/'([^']*)'/.exec(message)?.[1] ?? "")}`);
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
        // parseArgs reads `--units -3` as --units missing its value, followed by an option -3.
        if (/does not take an argument/.test(message)) throw new UsageError(`${option} takes no value`);
        throw new UsageError(`${option} needs a value${/ambiguous/.test(message) ? ` (for one starting with "-", write ${option}=VALUE)` : ""}`);
      default:
        throw e;
    }
  }
  const given = parsed.positionals;
  if (given.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(given[names.length])}`);
  if (given.length < names.length) throw new UsageError(`${names.slice(given.length).join(" and ")} ${names.length - given.length > 1 ? "are" : "is"} required`);
  return { values: parsed.values as FlagValues<T>, positionals: Object.fromEntries(names.map((n, i) => [n, given[i]!])) as Record<N, string> };
}

/** A flag's value as a number; `check` says what else it must be (e.g. "a positive integer"). */
export function numberFlag(flag: string, value: string | undefined, check: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const { integer = false, min = -Infinity, max = Infinity } = check;
  const bounds = max < Infinity ? ` from ${min} to ${max}` : min > -Infinity ? ` ≥ ${min}` : "";
  const want = `${integer ? "an integer" : "a number"}${bounds}`;
  if (value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new UsageError(`--${flag} must be ${want}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** `--opset`: an ONNX opset tf2onnx writes (protocol/models.json), checked before a worker starts. */
export function opsetFlag(value: string | undefined): number | undefined {
  return numberFlag("opset", value, { integer: true, min: ONNX_OPSETS.min, max: ONNX_OPSETS.max });
}

/** `--opset`'s line in a usage text. */
export const OPSET_USAGE = `the ONNX opset (${ONNX_OPSETS.min} to ${ONNX_OPSETS.max}, default ${ONNX_OPSETS.default})`;

/** A JSON file given on the command line; a missing file or bad JSON is a UsageError naming the file. */
export function readJsonFile(flag: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const { code } = e as { code?: string };
    throw new UsageError(`--${flag} ${file}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--${flag} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The flags that state a tolerance for model parity (`parity model`, `parity lstm`, `parity sweep`, `convert`). */
export const TOLERANCE_OPTIONS = {
  "max-ulp": { type: "string" },
  atol: { type: "string" },
  rtol: { type: "string" },
} as const;

/** The help lines of {@link TOLERANCE_OPTIONS}, their descriptions starting at `column`. */
export function toleranceUsage(column: number): string {
  const row = (flag: string, text: string) => `  ${flag.padEnd(column - 2)}${text}`;
  return [
    row("--max-ulp N", "accept a layer whose worst element is at most N ULP from the Session"),
    row("--atol X --rtol X", "accept a layer whose every element is within atol + rtol·|expected|"),
    row("", "(default: none; every difference must be explained by its cause)"),
  ].join("\n");
}

/** The stated tolerance of {@link TOLERANCE_OPTIONS}, or undefined when none is given. */
export function toleranceFlags(v: { "max-ulp"?: string; atol?: string; rtol?: string }): StatedTolerance | undefined {
  const stated: StatedTolerance = {
    maxUlp: numberFlag("max-ulp", v["max-ulp"], { integer: true, min: 0 }),
    atol: numberFlag("atol", v.atol, { min: 0 }),
    rtol: numberFlag("rtol", v.rtol, { min: 0 }),
  };
  const given = Object.fromEntries(Object.entries(stated).filter(([, x]) => x !== undefined)) as StatedTolerance;
  return Object.keys(given).length ? given : undefined;
}

/**
 * The bound of an ONNX proof from --atol/--rtol (each defaults to {@link DEFAULT_ONNX_TOLERANCE}'s), or
 * undefined when neither is given; --max-ulp has no meaning there (ONNX kernels are not TensorFlow's).
 */
export function onnxToleranceFlags(v: { "max-ulp"?: string; atol?: string; rtol?: string }): Tolerance | undefined {
  if (v["max-ulp"] !== undefined) throw new UsageError("--max-ulp is for TF.js; an ONNX proof is held to --atol/--rtol");
  const atol = numberFlag("atol", v.atol, { min: 0 });
  const rtol = numberFlag("rtol", v.rtol, { min: 0 });
  return atol !== undefined || rtol !== undefined ? { atol: atol ?? DEFAULT_ONNX_TOLERANCE.atol, rtol: rtol ?? DEFAULT_ONNX_TOLERANCE.rtol } : undefined;
}

/** A file named on the command line must exist before any worker starts (a bad command line: exit status 2). */
export function existingFile(what: string, path: string): string {
  if (!existsSync(path)) throw new UsageError(`${what} ${path}: no such file`);
  return path;
}

/**
 * `path` as a file a command will write once its run is over (a report): its folder must exist, and
 * it must not be a folder itself, checked before the run rather than found after it.
 * @throws {UsageError} naming the flag and the path.
 */
export function outputFile(what: string, path: string): string {
  const folder = dirname(resolve(path));
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new UsageError(`${what} ${path}: no such folder ${folder}`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`${what} ${path} is a folder, not a file`);
  return path;
}

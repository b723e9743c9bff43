#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TfbridgeError, UsageError } from "../errors.js";
import { packageRoot } from "../paths.js";
import type { Command, CommandContext } from "./context.js";
import { withCliLogLevel } from "./log-level.js";
import { CONVERT_USAGE, convertCommand } from "./convert.js";
import { DEMO_USAGE, demoCommand } from "./demo.js";
import { DOCTOR_USAGE, doctorCommand } from "./doctor.js";
import { PARITY_USAGE, parityCommand } from "./parity.js";
import { SERVE_USAGE, serveCommand } from "./serve.js";
import { SETUP_USAGE, setupCommand } from "./setup.js";
import { didYouMean } from "./suggest.js";
import { KEYS_USAGE, WORKER_USAGE, keysCommand, workerCommand } from "./worker.js";

const COMMANDS: Record<string, Command> = {
  setup: { summary: "provision the Python env and build tfjs-node's addon (first thing after npm install)", usage: SETUP_USAGE, run: setupCommand },
  doctor: { summary: "check the Python env, the worker and tfjs-node; say how to fix what is missing", usage: DOCTOR_USAGE, run: doctorCommand },
  demo: { summary: "run the seed's three LSTM examples in a real Python TensorFlow v1 Session", usage: DEMO_USAGE, run: demoCommand },
  parity: { summary: "run a model (yours, an LSTM spec, or a sweep) in Python and in TF.js with the same weights and compare", usage: PARITY_USAGE, run: parityCommand },
  convert: { summary: "convert a Keras 3 model to a TF.js LayersModel (or ONNX: --to onnx) and prove they agree (parity.html)", usage: CONVERT_USAGE, run: convertCommand },
  serve: { summary: "serve your models over TensorFlow Serving's REST API (predict, status, metadata, metrics)", usage: SERVE_USAGE, run: serveCommand },
  worker: { summary: "run a worker on this machine that joins a pool over TCP", usage: WORKER_USAGE, run: workerCommand },
  keys: { summary: "print a new CurveZMQ key pair for pools and remote workers", usage: KEYS_USAGE, run: keysCommand },
};

const USAGE = `usage: tfbridge <command> [options] [--verbose]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)}${c.summary}`)
  .join("\n")}
  help      show this text; \`tfbridge <command> --help\` shows a command's options and examples

--verbose (any command): stacks on errors, TensorFlow's C++ logs and the Python workers' stderr.
Exit status: 0 success, 1 a failed check or run, 2 a bad command line.`;

/** Runs one command line; resolves with the exit status. Errors are reported here, once, as one line. */
async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes("--verbose");
  const [name, ...args] = argv.filter((a) => a !== "--verbose");
  process.env.TF_CPP_MIN_LOG_LEVEL = withCliLogLevel(process.env, verbose).TF_CPP_MIN_LOG_LEVEL;
  const context: CommandContext = { verbose };
  if (name === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    process.stdout.write(`tfbridge ${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) return usageError(`unknown command ${JSON.stringify(name)}${didYouMean(name, [...Object.keys(COMMANDS), "help"])}`, USAGE, "tfbridge");
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(args, context);
  } catch (error) {
    if (error instanceof UsageError) return usageError(error.message, command.usage, `tfbridge ${name}`);
    throw error;
  }
}

/**
 * A bad command line: the problem, the usage lines only (its synopsis, up to the first blank line) and
 * where the rest is; exit status 2.
 */
function usageError(problem: string, usage: string, who: string): number {
  const synopsis = usage.split("\n\n")[0];
  const more = who === "tfbridge" ? "`tfbridge help` lists the commands" : `\`${who} --help\` shows its options and examples`;
  process.stderr.write(`${who}: ${problem}\n\n${synopsis}\n(${more})\n`);
  return 2;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }).version;
}

function report(error: unknown, verbose: boolean): void {
  const e = error as Error;
  if (verbose) {
    process.stderr.write(`tfbridge: ${e?.stack ?? String(error)}\n`);
    const traceback = (e as { formatTraceback?: () => string })?.formatTraceback?.();
    if (traceback) process.stderr.write(`${traceback}\n`);
    return;
  }
  const what = error instanceof TfbridgeError ? `${e.name}: ${e.message}` : `${e?.message ?? String(error)}`;
  process.stderr.write(`tfbridge: ${what}\n(run again with --verbose for the stack)\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    report(error, process.argv.includes("--verbose"));
    process.exitCode = 1;
  },
);

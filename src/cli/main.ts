#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TfbridgeError, UsageError } from "../errors.js";
import { packageRoot } from "../paths.js";
import type { Command, CommandContext } from "./context.js";
import { withCliLogLevel } from "./log-level.js";
import { didYouMean } from "./suggest.js";

const COMMANDS: Record<string, Command> = {
  setup: {
    summary: "provision the Python env and build tfjs-node's addon (first thing after npm install)",
    load: () => import("./setup.js").then((m) => ({ usage: m.SETUP_USAGE, run: m.setupCommand })),
  },
  doctor: {
    summary: "check the Python env, the worker and tfjs-node; say how to fix what is missing",
    load: () => import("./doctor.js").then((m) => ({ usage: m.DOCTOR_USAGE, run: m.doctorCommand })),
  },
  demo: {
    summary: "run the seed's three LSTM examples in a real Python TensorFlow v1 Session",
    load: () => import("./demo.js").then((m) => ({ usage: m.DEMO_USAGE, run: m.demoCommand })),
  },
  parity: {
    summary: "run a model (yours, an LSTM spec, or a sweep) in Python and in TF.js with the same weights and compare",
    load: () => import("./parity.js").then((m) => ({ usage: m.PARITY_USAGE, run: m.parityCommand })),
  },
  convert: {
    summary: "convert a Keras 3 model to a TF.js LayersModel (or ONNX: --to onnx) and prove they agree (parity.html)",
    load: () => import("./convert.js").then((m) => ({ usage: m.CONVERT_USAGE, run: m.convertCommand })),
  },
  serve: {
    summary: "serve your models over TensorFlow Serving's REST API (predict, status, metadata, metrics)",
    load: () => import("./serve.js").then((m) => ({ usage: m.SERVE_USAGE, run: m.serveCommand })),
  },
  worker: {
    summary: "run a worker on this machine that joins a pool over TCP",
    load: () => import("./worker.js").then((m) => ({ usage: m.WORKER_USAGE, run: m.workerCommand })),
  },
  keys: {
    summary: "print a new CurveZMQ key pair for pools and remote workers",
    load: () => import("./worker.js").then((m) => ({ usage: m.KEYS_USAGE, run: m.keysCommand })),
  },
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
  // Own names only: `tfbridge constructor` is not Object's.
  if (!Object.hasOwn(COMMANDS, name)) return usageError(`unknown command ${JSON.stringify(name)}${didYouMean(name, [...Object.keys(COMMANDS), "help"])}`, USAGE, "tfbridge");
  const command = await COMMANDS[name]!.load();
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

#!/usr/bin/env node
import { Bridge } from "../bridge.js";
import { TfbridgeError } from "../errors.js";
import { tfjsInfo } from "../tfjs/runtime.js";
import { formatDemo, runDemo } from "./demo.js";
import { PARITY_USAGE, parityCommand } from "./parity.js";
import { WORKER_USAGE, keysCommand, workerCommand } from "./worker.js";

const USAGE = `usage: tfbridge <command> [options]

commands:
  demo [--json]     run the seed's three LSTM examples in a real Python TensorFlow v1 Session
  parity ...        run a spec in Python and in TF.js with the same weights and compare (parity --help)
  doctor [--json]   report the Python worker's and TF.js's versions and backends
  worker ...        run a worker on this machine that joins a pool over TCP (worker --help)
  keys              print a new CurveZMQ key pair for pools and remote workers
  help              show this text
`;

async function doctor(json: boolean): Promise<number> {
  await using bridge = await Bridge.start();
  const report = { worker: bridge.info, tfjs: await tfjsInfo() };
  const ok = report.tfjs.backend === "tensorflow" && report.tfjs.tensorflow === report.worker.tensorflow;
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...report, ok }, null, 2)}\n`);
  } else {
    const w = report.worker;
    process.stdout.write(
      [
        `python worker: pid ${w.pid}, Python ${w.python}, NumPy ${w.numpy}, TensorFlow ${w.tensorflow}, Keras ${w.keras}, wire v${w.protocol}`,
        `tfjs-node:     backend ${report.tfjs.backend}, TensorFlow C library ${report.tfjs.tensorflow}, TF.js ${report.tfjs.tfjs}, backends ${report.tfjs.backends.join(", ")}`,
        ok ? "ok: tfjs-node runs natively on the same TensorFlow version as the worker" : "PROBLEM: tfjs-node is not on the native backend of the worker's TensorFlow version",
      ].join("\n") + "\n",
    );
  }
  return ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "demo": {
      await using bridge = await Bridge.start();
      const report = await runDemo(bridge);
      process.stdout.write(args.includes("--json") ? `${JSON.stringify(report, null, 2)}\n` : `${formatDemo(report)}\n`);
      return 0;
    }
    case "parity": {
      if (args.includes("--help")) {
        process.stdout.write(`${PARITY_USAGE}\n`);
        return 0;
      }
      return parityCommand(args);
    }
    case "doctor":
      return doctor(args.includes("--json"));
    case "worker":
      if (args.includes("--help")) {
        process.stdout.write(`${WORKER_USAGE}\n`);
        return 0;
      }
      return workerCommand(args);
    case "keys":
      return keysCommand();
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(command ? `tfbridge: unknown command ${JSON.stringify(command)}\n\n${USAGE}` : USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const detail = error instanceof TfbridgeError ? `${error.name}: ${error.message}` : String((error as Error)?.stack ?? error);
    process.stderr.write(`tfbridge: ${detail}\n`);
    process.exitCode = 1;
  },
);

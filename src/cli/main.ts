#!/usr/bin/env node
import { Bridge } from "../bridge.js";
import { TfbridgeError } from "../errors.js";
import { formatDemo, runDemo } from "./demo.js";

const USAGE = `usage: tfbridge <command> [options]

commands:
  demo [--json]     run the seed's three LSTM examples in a real Python TensorFlow v1 Session
  help              show this text
`;

async function demo(args: string[]): Promise<void> {
  const json = args.includes("--json");
  await using bridge = await Bridge.start();
  const report = await runDemo(bridge);
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDemo(report)}\n`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "demo":
      await demo(args);
      return 0;
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

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { withCliLogLevel } from "../../src/cli/log-level.js";
import { shareForkServer } from "../../src/worker/process.js";

const exec = promisify(execFile);
const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** The commands that may start a Python worker. */
const WORKER_COMMANDS = new Set(["parity", "demo", "doctor", "convert", "serve"]);

/**
 * A run's environment: this process's, handing down a fork server of this test process for the workers
 * the CLI starts (as the CLI will set their log level) where `args` may start one. Not for --verbose:
 * its tests read the import's logs, which a server of the CLI's own writes to the CLI's stderr.
 */
export function cliEnvironment(args: string[]): NodeJS.ProcessEnv {
  const mayStartWorker = WORKER_COMMANDS.has(args[0] ?? "") && !args.some((a) => a === "--verbose" || a === "--help");
  return mayStartWorker ? shareForkServer(process.env, { workerBases: [withCliLogLevel(process.env, false)] }) : process.env;
}

async function run(env: NodeJS.ProcessEnv, args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["--import", "tsx", main, ...args], { maxBuffer: 256 * 1024 * 1024, env });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const { stdout, stderr, code } = e as CliResult;
    return { stdout, stderr, code };
  }
}

/**
 * Runs the tfbridge CLI from source in a child process; resolves with stdout, stderr and the exit code.
 * Its workers fork from a server of this process's, which the runs of one test file share.
 */
export function tfbridge(...args: string[]): Promise<CliResult> {
  return run(cliEnvironment(args), args);
}

/**
 * The same with extra environment variables: a fork server handed down applies only where they change
 * nothing TensorFlow's import reads; otherwise the CLI starts its own.
 */
tfbridge.env = (env: Record<string, string>) => (...args: string[]) => run({ ...process.env, ...env }, args);

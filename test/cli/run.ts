import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);
const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

async function run(env: Record<string, string>, args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["--import", "tsx", main, ...args], {
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, ...env },
    });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const { stdout, stderr, code } = e as CliResult;
    return { stdout, stderr, code };
  }
}

/**
 * Runs the tfbridge CLI from source in a child process; resolves with stdout, stderr and the exit code.
 * Its workers fork from the server test/global-setup.ts hands down for CLI runs, where their
 * environment is the one it predicted; a --verbose run's, or one given other variables, is not.
 */
export function tfbridge(...args: string[]): Promise<CliResult> {
  return run({}, args);
}

/** The same with extra environment variables. */
tfbridge.env = (env: Record<string, string>) => (...args: string[]) => run(env, args);

import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);
/**
 * The CLI as users run it: dist/cli/main.js, compiled from src/ by vitest's global setup before any
 * file runs. From source under tsx each run cost about three times the CPU (1.5 against 0.5 s here),
 * and the suite starts the CLI well over a hundred times.
 */
export const CLI_MAIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

async function run(env: Record<string, string>, args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI_MAIN, ...args], {
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

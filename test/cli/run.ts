import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);
const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/** Runs the tfbridge CLI from source in a child process; resolves with stdout, stderr and the exit code. */
export async function tfbridge(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["--import", "tsx", main, ...args], { maxBuffer: 256 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const { stdout, stderr, code } = e as { stdout: string; stderr: string; code: number };
    return { stdout, stderr, code };
  }
}

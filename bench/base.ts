/**
 * `--base REV`: the engine as it was at REV, measured in the same run as this checkout's, so that
 * "pipelined ≥ 2× the pre-change engine" compares like with like on a noisy machine.
 *
 * REV is checked out into a git worktree under the system's temp folder (removed afterwards), this
 * checkout's node_modules, .venv and native/build are linked into it (nothing is installed), and its
 * own src/index.ts is loaded under the same tsx loader as this run: its Bridge runs its own engine,
 * codec and Python worker (its wire format, whatever that was), in this process.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { packageRoot } from "../src/paths.js";
import { progress } from "./stats.js";

/** What the pipelined measurement needs of a client, old or new. */
export interface Caller {
  call(op: string): Promise<unknown>;
  close(): Promise<void>;
  /** Its worker's pid, for CPU accounting. */
  readonly pid: number | undefined;
}

export interface BaseEngine {
  rev: string;
  bridge: Caller;
  /** Closes its Bridge and removes the worktree. */
  dispose(): Promise<void>;
}

const git = (...args: string[]) => execFileSync("git", args, { cwd: packageRoot, encoding: "utf8" }).trim();

/** Checks `rev` out beside this checkout and starts a Bridge of that revision on its default link. */
export async function startBase(rev: string): Promise<BaseEngine> {
  const sha = git("rev-parse", "--verify", `${rev}^{commit}`);
  const dir = join(mkdtempSync(join(tmpdir(), "tfbridge-bench-base-")), sha.slice(0, 12));
  git("worktree", "add", "--detach", dir, sha);
  const remove = () => {
    try {
      git("worktree", "remove", "--force", dir);
    } catch (e) {
      process.emitWarning(`tfbridge bench: could not remove the --base worktree ${dir}: ${(e as Error).message}`);
    }
  };
  try {
    for (const shared of ["node_modules", ".venv", join("native", "build")]) {
      if (existsSync(join(packageRoot, shared)) && !existsSync(join(dir, shared))) symlinkSync(join(packageRoot, shared), join(dir, shared));
    }
    progress(`--base ${rev}: ${sha.slice(0, 12)} checked out at ${dir}`);
    const index = (await import(pathToFileURL(join(dir, "src", "index.ts")).href)) as { Bridge: { start(): Promise<Caller> } };
    const bridge = await index.Bridge.start();
    return {
      rev: sha,
      bridge,
      dispose: async () => {
        await bridge.close();
        remove();
      },
    };
  } catch (e) {
    remove();
    throw e;
  }
}

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sweepDead } from "../stale-dirs.js";

/** `tfbridge-<pid>-…` (a worker's folder), `tfbridge-pool-<pid>-…`, `tfbridge-fork-<pid>-…` or `tfbridge-shm-<pid>-…`: the pid of the Node process that made it. */
const OWNED = /^tfbridge-(?:pool-|fork-|shm-)?(\d+)-/;

/** Where the local link's shared-memory files go: tmpfs on Linux, else the temporary folder. */
const SHM_ROOT = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
const ROOTS = [...new Set([tmpdir(), SHM_ROOT])];

/**
 * Removes the folders (and the sockets in them) that earlier processes of this user made and never
 * removed because they were SIGKILLed: the folder names the pid that made it, and that pid is gone.
 */
export function sweepStaleDirs(): void {
  for (const root of ROOTS) sweepDead(root, (name) => Number(OWNED.exec(name)?.[1]) || undefined);
}

let swept = false;
/** The first start in this process sweeps what killed processes left, and arms the exit hook. */
export function sweepOnce(): void {
  if (swept) return;
  swept = true;
  sweepStaleDirs();
  process.once("exit", () => {
    for (const dir of live) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * Folders not yet removed. Were this process to exit first (process.exit, an uncaught error, a script
 * that never closes its Bridge), their owners' cleanup would never run: one exit hook removes what is
 * left. Workers follow when their stdin closes. Only a SIGKILL skips the hook; the next start sweeps.
 */
const live = new Set<string>();

/**
 * A new folder only this user can enter (mode 0700) for one worker's or pool's sockets and temporary
 * files, a fork server's socket (`fork`), or (`shm`, in /dev/shm) a local link's shared memory, removed at the latest when this process
 * exits, and named after this process so that a later start can sweep it up if this process is killed
 * before it could remove it.
 */
export function privateDir(kind: "worker" | "pool" | "fork" | "shm"): string {
  sweepOnce();
  const root = kind === "shm" ? SHM_ROOT : tmpdir();
  const dir = mkdtempSync(join(root, `tfbridge-${kind === "worker" ? "" : `${kind}-`}${process.pid}-`));
  live.add(dir);
  return dir;
}

/** Removes a folder made by {@link privateDir}. */
export function removePrivateDir(dir: string): void {
  live.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

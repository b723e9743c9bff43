import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Private folders (workers' and pools' sockets, workers' temporary files) not yet removed. Were this
 * process to exit first (process.exit, an uncaught error, a script that never closes its Bridge), their
 * owners' cleanup would never run: one exit hook removes what is left. Workers follow when their
 * stdin closes.
 */
const live = new Set<string>();
let exitHook = false;

/** A new folder only this user can enter (mode 0700), removed at the latest when this process exits. */
export function privateTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  live.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const d of live) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

/** Removes a folder made by {@link privateTempDir}. */
export function removeTempDir(dir: string): void {
  live.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

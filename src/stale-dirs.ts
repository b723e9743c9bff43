import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

/** Whether process `pid` still runs. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // someone else's live process
  }
}

/**
 * Removes what killed processes left in `root`: each entry `ownerOf` names a pid for (the Node process
 * that made it, in its name), when that process is gone and the entry is this user's.
 */
export function sweepDead(root: string, ownerOf: (name: string) => number | undefined): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const pid = ownerOf(name);
    if (!pid || pid === process.pid || pidAlive(pid)) continue;
    const path = join(root, name);
    try {
      if (statSync(path).uid === uid) rmSync(path, { recursive: true, force: true });
    } catch {
      // raced with another sweeper, or not ours to remove
    }
  }
}

import { chmodSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ConvertError } from "../errors.js";

/**
 * An output folder written in full or not at all: files go to a hidden folder beside OUTDIR, which
 * becomes OUTDIR in one rename at the end; on failure it is removed. An OUTDIR that exists and is
 * not empty is refused unless `force`, in which case it is replaced only once the new one is complete.
 */
export class StagedDir {
  readonly path: string;
  private settled = false;

  constructor(
    readonly target: string,
    force: boolean,
  ) {
    this.target = resolve(target);
    if (existsSync(this.target)) {
      if (!statSync(this.target).isDirectory()) throw new ConvertError(`${target} exists and is not a folder`, { file: target });
      if (readdirSync(this.target).length && !force) throw new ConvertError(`${target} exists and is not empty (--force replaces it)`, { file: target });
    }
    try {
      this.path = mkdtempSync(join(dirname(this.target), `.${basename(this.target)}.tfbridge-`));
    } catch (e) {
      throw new ConvertError(`cannot write beside ${target}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: target });
    }
  }

  /** Puts the staged folder in place of the target. */
  commit(): void {
    if (this.settled) return;
    this.settled = true;
    if (existsSync(this.target)) rmSync(this.target, { recursive: true, force: true });
    chmodSync(this.path, 0o755); // mkdtemp's 0700 was for the unfinished folder; a model folder is served and shared
    renameSync(this.path, this.target);
  }

  /** Removes the staged folder; the target stays as it was. */
  discard(): void {
    if (this.settled) return;
    this.settled = true;
    rmSync(this.path, { recursive: true, force: true });
  }
}

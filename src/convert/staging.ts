import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { ConvertError } from "../errors.js";
import { sweepDead } from "../stale-dirs.js";

/** A path with its links followed (as far as it exists): the same folder reached two ways compares equal. */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** `inner` is `outer` or lies inside it. */
function within(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith("/"));
}

/**
 * An output folder written in full or not at all: files go to a hidden folder beside OUTDIR, which
 * becomes OUTDIR in one rename at the end; on failure it is removed. An OUTDIR that exists and is
 * not empty is refused unless `force`; then the old one is moved aside, the new one moved in, and
 * only then the old one deleted, so a failure at any step leaves the old one whole. Without `force`
 * an OUTDIR filled while this one was staged (another conversion into it) is refused at commit too:
 * the one rename replaces only an empty folder.
 */
export class StagedDir {
  readonly path: string;
  private settled = false;

  /** @param keep files that must not be inside a replaced OUTDIR (the input), besides the working folder. */
  constructor(
    readonly target: string,
    private readonly force: boolean,
    keep: readonly string[] = [],
  ) {
    this.target = resolve(target);
    if (existsSync(this.target)) {
      if (!statSync(this.target).isDirectory()) throw new ConvertError(`${target} exists and is not a folder`, { file: target });
      if (readdirSync(this.target).length) {
        if (!force) throw new ConvertError(`${target} exists and is not empty (--force replaces it)`, { file: target });
        const lost = [...keep, process.cwd()].find((k) => within(real(k), real(this.target)));
        if (lost) throw new ConvertError(`${target} holds ${lost}: --force would delete it with the folder`, { file: target });
      }
    }
    // Named after this host and process, so that the next conversion here removes it if this one is
    // killed: a folder of a process that is gone, on this host (OUTDIR's folder may be shared by others,
    // whose pids say nothing here). A `.replaced` folder is never swept: it may be the only old OUTDIR.
    const prefix = `.${basename(this.target)}.tfbridge-${hostname()}-`;
    const staged = /^(\d+)-[A-Za-z0-9]{6}$/;
    sweepDead(dirname(this.target), (name) => (name.startsWith(prefix) ? Number(staged.exec(name.slice(prefix.length))?.[1]) || undefined : undefined));
    try {
      this.path = mkdtempSync(join(dirname(this.target), `${prefix}${process.pid}-`));
    } catch (e) {
      throw new ConvertError(`cannot write beside ${target}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: target });
    }
  }

  /** Puts the staged folder in place of the target. */
  commit(): void {
    if (this.settled) return;
    chmodSync(this.path, 0o755); // mkdtemp's 0700 was for the unfinished folder; a model folder is served and shared
    // Without force the one rename puts it in place, and refuses a folder filled meanwhile. A symlink
    // OUTDIR (to an empty folder when checked) is not renamed onto: the link is moved aside as force
    // does, once its folder is seen to be still empty.
    const link = lstatSync(this.target, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
    if (link && !this.force && existsSync(this.target) && readdirSync(this.target).length) throw this.filledMeanwhile();
    const old = link || (this.force && existsSync(this.target)) ? `${this.path}.replaced` : null;
    try {
      if (old) renameSync(this.target, old);
      try {
        renameSync(this.path, this.target);
      } catch (e) {
        if (old) renameSync(old, this.target);
        throw e;
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!this.force && (code === "ENOTEMPTY" || code === "EEXIST")) throw this.filledMeanwhile();
      throw new ConvertError(`cannot put the new folder in place of ${this.target}: ${code ?? (e as Error).message}`, { file: this.target });
    }
    this.settled = true;
    if (old) rmSync(old, { recursive: true, force: true });
  }

  private filledMeanwhile(): ConvertError {
    return new ConvertError(`${this.target} was filled while this conversion ran (another conversion into it?); it is left as it is, and --force replaces it`, { file: this.target });
  }

  /** Removes the staged folder; the target stays as it was. */
  discard(): void {
    if (this.settled) return;
    this.settled = true;
    rmSync(this.path, { recursive: true, force: true });
  }
}

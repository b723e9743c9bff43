import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { packageRoot } from "../paths.js";

/**
 * The tfjs-node release `tfbridge setup` installs beside the Python env (the same as the package's
 * devDependency; a test checks that they agree).
 */
export const TFJS_NODE_VERSION = "4.22.0";

/** The onnxruntime-node and onnxruntime-web release `tfbridge setup --onnx` installs (the devDependencies' too; a test ties them). */
export const ONNX_RUNTIME_VERSION = "1.31.1";

/** The pinned Python requirements the worker needs. */
export const REQUIREMENTS_FILE = join(packageRoot, "python", "requirements.txt");

/** The optional ONNX tools (tf2onnx, onnx) that `tfbridge setup --onnx` adds to the env. */
export const ONNX_REQUIREMENTS_FILE = join(packageRoot, "python", "requirements-onnx.txt");

/** The command that provisions what is missing, as a user types it. */
export const SETUP_COMMAND = "npx tfbridge setup";

/** The first 16 hex digits of a file's SHA-256. */
export function fileHash(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 16);
}

/** The requirements file's {@link fileHash}: envs are keyed by it. */
export function requirementsHash(): string {
  return fileHash(REQUIREMENTS_FILE);
}

/** tfbridge's per-user cache: `$TFBRIDGE_CACHE_DIR`, else `$XDG_CACHE_HOME/tfbridge`, else `~/.cache/tfbridge`. */
export function cacheDir(): string {
  return process.env.TFBRIDGE_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "tfbridge");
}

/**
 * Where `tfbridge setup` keeps the wheels it downloaded (`$TFBRIDGE_WHEELHOUSE`, else in the cache), so
 * that a second env installs without downloading TensorFlow again: pip's own HTTP cache does not keep
 * them on every machine (it obeys the index's cache headers).
 */
export function wheelhouse(): string {
  return process.env.TFBRIDGE_WHEELHOUSE || join(cacheDir(), "wheels");
}

/**
 * Where `tfbridge setup` puts the env by default, and where the Bridge looks for it: one per version
 * of the requirements. `setup --venv PATH` makes this a symlink to PATH.
 */
export function defaultVenv(): string {
  return join(cacheDir(), `venv-${requirementsHash()}`);
}

export function venvPython(venv: string): string {
  return join(venv, "bin", "python");
}

/** The Python env the worker runs in, and how it was chosen. */
export interface PythonEnv {
  python: string;
  /** `TFBRIDGE_PYTHON`, a clone's `.venv` (made by `make setup`), or the env of `tfbridge setup`. */
  source: "TFBRIDGE_PYTHON" | "clone" | "setup";
}

/** `$TFBRIDGE_PYTHON`, else the `.venv` of a clone of tfbridge, else the env `tfbridge setup` makes. */
export function findPython(): PythonEnv {
  if (process.env.TFBRIDGE_PYTHON) return { python: process.env.TFBRIDGE_PYTHON, source: "TFBRIDGE_PYTHON" };
  const clone = venvPython(join(packageRoot, ".venv"));
  if (existsSync(clone)) return { python: clone, source: "clone" };
  return { python: venvPython(defaultVenv()), source: "setup" };
}

/** Where `tfbridge setup` installs tfjs-node (and builds its addon) inside an env. */
export function tfjsNodeProject(venv: string): string {
  return join(venv, "tfjs-node");
}

/** The tfjs-node package inside the env of this Python, if `tfbridge setup` installed one there. */
export function tfjsNodeBesidePython(python: string): string | null {
  const dir = join(tfjsNodeProject(dirname(dirname(python))), "node_modules", "@tensorflow", "tfjs-node");
  return existsSync(join(dir, "package.json")) ? dir : null;
}

/** Where `tfbridge setup --onnx` installs onnxruntime-node and onnxruntime-web inside an env. */
export function onnxProject(venv: string): string {
  return join(venv, "onnx");
}

/** The folder of `setup --onnx`'s npm project beside this Python, if it installed one there. */
export function onnxProjectBesidePython(python: string): string | null {
  const dir = onnxProject(dirname(dirname(python)));
  return existsSync(join(dir, "node_modules", "onnxruntime-node", "package.json")) ? dir : null;
}

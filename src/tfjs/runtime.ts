import { createRequire } from "node:module";
import { TfbridgeError } from "../errors.js";
import { shmAddon } from "../native.js";
import { SETUP_COMMAND, findPython, tfjsNodeBesidePython } from "../setup/env.js";

/**
 * The `@tensorflow/tfjs-node` module: TF.js with the native TensorFlow backend and the JS CPU one.
 * Internal (stripped from the published types): tfjs-node is not a dependency of the package, so a
 * published `.d.ts` that named its types would not compile in a user's project (TS2307).
 * @internal
 */
export type Tfjs = typeof import("@tensorflow/tfjs-node");

/**
 * tfjs-node's module as the published types name it: opaque, because `@tensorflow/tfjs-node` lives in
 * the env `tfbridge setup` makes, not in your node_modules. Where you have TF.js's types, cast it:
 * `(await loadTfjs()) as unknown as typeof import("@tensorflow/tfjs")`.
 */
export interface TfjsModule {
  /** The versions of TF.js's packages, by package name (`tfjs-core`, `tfjs-node`, …). */
  readonly version: { readonly [pkg: string]: string };
}

/** The two JS runtimes parity compares against Python: native TensorFlow C library, or pure JS. */
export type TfjsBackend = "tensorflow" | "cpu";

/** tfjs-node's native addon could not be loaded, or TF.js fell back to another backend. */
export class TfjsUnavailableError extends TfbridgeError {
  override name = "TfjsUnavailableError";
}

/** What the loaded TF.js reports about itself. */
export interface TfjsInfo {
  /** The active backend after loading tfjs-node: `tensorflow` unless something is wrong. */
  backend: string;
  /** Version of the TensorFlow C library the native addon loaded. */
  tensorflow: string;
  tfjs: string;
  backends: string[];
}

let loading: Promise<Tfjs> | undefined;

/**
 * Runs `load` with TensorFlow's load-time notices (oneDNN, cpu_feature_guard) kept off stderr when
 * `TF_CPP_MIN_LOG_LEVEL` asks for quiet (≥ 1, as the CLI sets without --verbose): the C library writes
 * them before its logging is set up, ignoring that variable. Nothing else can write during a synchronous
 * `load`; a fatal message TensorFlow prints while loading is lost with them (`--verbose`, i.e.
 * TF_CPP_MIN_LOG_LEVEL=0, shows it). Without the native addon the notices show, as TensorFlow prints them.
 */
function withTfLoadNotices<T>(load: () => T): T {
  let addon: ReturnType<typeof shmAddon> = null;
  let saved = -1;
  try {
    addon = Number(process.env.TF_CPP_MIN_LOG_LEVEL ?? 0) >= 1 ? shmAddon() : null;
    // An addon built before it had the switch loads too: then the notices show, as TensorFlow prints them.
    if (addon && typeof addon.muteStderr === "function") saved = addon.muteStderr();
  } catch {
    addon = null; // an addon that does not load costs the quiet, never tfjs-node
  }
  try {
    return load();
  } finally {
    if (addon && saved >= 0) addon.restoreStderr(saved);
  }
}

/**
 * Loads tfjs-node once (lazily: the Python bridge alone never pays for it) and checks that its native
 * `tensorflow` backend is the one in use, not a silent fallback.
 * @internal the published name is `loadTfjs` of the package's entry, typed {@link TfjsModule}.
 */
export function loadTfjs(): Promise<Tfjs> {
  loading ??= (async () => {
    let tf: Tfjs;
    try {
      // `tfbridge setup` installs tfjs-node inside the Python env, its addon built against that env's
      // TensorFlow (an installed tfbridge does not depend on tfjs-node: its installer would download).
      // A clone has it in node_modules instead, built by `make setup`.
      const beside = tfjsNodeBesidePython(findPython().python);
      // createRequire, not import(): the require runs synchronously, so muting stderr covers exactly it.
      tf = withTfLoadNotices(() => createRequire(import.meta.url)(beside ?? "@tensorflow/tfjs-node") as Tfjs);
    } catch (e) {
      throw new TfjsUnavailableError(`@tensorflow/tfjs-node did not load (run \`${SETUP_COMMAND}\`, or \`make setup\` in a clone, to build its addon): ${(e as Error).message}`);
    }
    await tf.ready();
    if (tf.getBackend() !== "tensorflow") {
      throw new TfjsUnavailableError(`tfjs-node loaded but the active backend is ${tf.getBackend()}, not tensorflow`);
    }
    // The JS CPU backend, here on purpose as a second runtime, would otherwise print on first use that
    // Node users should install tfjs-node, which is already what runs beside it.
    const cpu = tf.findBackend("cpu") as unknown as { firstUse?: boolean } | null;
    if (cpu && "firstUse" in cpu) cpu.firstUse = false;
    return tf;
  })();
  return loading;
}

/**
 * {@link loadTfjs} as the package publishes it (`loadTfjs` of `tfbridge`): the same module, typed
 * {@link TfjsModule} so that the published types do not name tfjs-node's.
 */
export const loadTfjsModule: () => Promise<TfjsModule> = loadTfjs;

/** Loads tfjs-node (see {@link loadTfjs}) and says which TensorFlow and TF.js it runs. */
export async function tfjsInfo(): Promise<TfjsInfo> {
  const tf = await loadTfjs();
  const backend = tf.findBackend("tensorflow") as unknown as { binding: { TF_Version: string } };
  return {
    backend: tf.getBackend(),
    tensorflow: backend.binding.TF_Version,
    tfjs: tf.version.tfjs,
    backends: Object.keys(tf.engine().registryFactory),
  };
}

/**
 * Runs `fn` with `backend` active and restores the previous one; runs must not overlap.
 * @internal
 */
export async function withBackend<T>(tf: Tfjs, backend: TfjsBackend, fn: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  if (!(await tf.setBackend(backend))) throw new TfjsUnavailableError(`TF.js backend ${backend} could not be initialized`);
  try {
    return await fn();
  } finally {
    await tf.setBackend(previous);
  }
}

import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { SetupError } from "../errors.js";
import { findPython, onnxProjectBesidePython } from "../setup/env.js";

/**
 * The part of onnxruntime's API (onnxruntime-common, shared by -node and -web) that tfbridge uses.
 * Written out so that the published types do not name onnxruntime's packages, which are optional.
 */
export interface OrtModule {
  InferenceSession: { create(model: string | Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: ArrayBufferView, dims: readonly number[]) => OrtTensor;
  env: { versions: Record<string, string>; wasm?: { numThreads?: number } };
}

/** An onnxruntime session: one loaded ONNX model. */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/** An onnxruntime tensor. */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayBufferView | string[];
}

/** The onnxruntime packages: native (Node only) and WebAssembly (Node and browsers). */
export type OnnxRuntimeKind = "onnxruntime-node" | "onnxruntime-web";
export const ONNX_RUNTIMES: readonly OnnxRuntimeKind[] = ["onnxruntime-node", "onnxruntime-web"];

const loading = new Map<OnnxRuntimeKind, Promise<OrtModule>>();

/** Where `pkg` resolves: in the env `tfbridge setup --onnx` provisioned, else beside tfbridge (a clone's devDependencies, or the user's node_modules). */
function resolvePackage(pkg: OnnxRuntimeKind): string {
  const beside = onnxProjectBesidePython(findPython().python);
  const from = beside ? join(beside, "package.json") : import.meta.url;
  return createRequire(from).resolve(pkg);
}

/**
 * Loads onnxruntime-node or onnxruntime-web (its WebAssembly backend, single-threaded) once.
 * @throws {SetupError} when it is not installed: `npx tfbridge setup --onnx` installs both.
 */
export function loadOnnxRuntime(kind: OnnxRuntimeKind): Promise<OrtModule> {
  let pending = loading.get(kind);
  if (!pending) {
    pending = (async () => {
      let ort: OrtModule;
      try {
        const module = (await import(pathToFileURL(resolvePackage(kind)).href)) as { default?: OrtModule } & OrtModule;
        ort = module.default ?? module;
      } catch (e) {
        throw new SetupError(`${kind} is not installed or does not load (run \`npx tfbridge setup --onnx\`, or \`make setup\` in a clone): ${(e as Error).message.split("\n")[0]}`);
      }
      // Threads would make the proof's run order (and a benchmark's cores) depend on the machine.
      if (kind === "onnxruntime-web" && ort.env.wasm) ort.env.wasm.numThreads = 1;
      return ort;
    })();
    pending.catch(() => loading.delete(kind));
    loading.set(kind, pending);
  }
  return pending;
}

/** The version of each onnxruntime package that loads, or why it does not (for `doctor`). */
export async function onnxRuntimeVersions(): Promise<Record<OnnxRuntimeKind, string | { error: string }>> {
  const found = {} as Record<OnnxRuntimeKind, string | { error: string }>;
  for (const kind of ONNX_RUNTIMES) {
    try {
      const ort = await loadOnnxRuntime(kind);
      found[kind] = ort.env.versions.common ?? "unknown";
    } catch (e) {
      found[kind] = { error: (e as Error).message };
    }
  }
  return found;
}

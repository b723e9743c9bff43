import { loadTfjs, withBackend } from "../src/tfjs/runtime.js";

/** Whether TF.js's WASM backend loads and initializes here (its package is an optional part). */
export async function wasmReady(): Promise<boolean> {
  try {
    await import("@tensorflow/tfjs-backend-wasm");
    return await withBackend(await loadTfjs(), "wasm" as never, async () => true);
  } catch {
    return false;
  }
}

import { TfbridgeError } from "../errors.js";
import { type NDArray, ndarray } from "../wire/ndarray.js";
import { feedTensor, tfjsFeed } from "./inputs.js";
import { loadTfjs } from "./runtime.js";

/** A SavedModel's signature does not give the outputs asked for. */
export class SavedModelError extends TfbridgeError {
  override name = "SavedModelError";
}

/** A SavedModel loaded into tfjs-node: the whole model runs as one TensorFlow graph, not op by op. */
export interface TfjsSavedModel {
  /** Runs a one-input `serving_default` on `input`; outputs by the names given to {@link loadTfjsSavedModel}. */
  run(input: NDArray<"float32">): Promise<Record<string, NDArray<"float32">>>;
  /**
   * Runs `serving_default` on inputs keyed by the signature's input names (a Keras export names them
   * after the model's inputs); the outputs in the order of their signature keys, numbers compared as
   * numbers (Keras's export names them output_0 … output_N, in the model's output order).
   */
  predict(inputs: Readonly<Record<string, NDArray>>): Promise<NDArray<"float32">[]>;
  dispose(): void;
}

/** output_2 before output_10: Keras numbers its exported outputs in the model's output order. */
function bySignatureKey(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/**
 * Loads a SavedModel written by Python (e.g. `handle.exportSavedModel`) with `tf.node.loadSavedModel`.
 * `outputNames` are the keys of its `serving_default` outputs: tfjs-node returns several outputs as a
 * bare list, in the order TensorFlow flattens a dict, which is sorted by key.
 */
export async function loadTfjsSavedModel(path: string, outputNames: readonly string[] = ["output"]): Promise<TfjsSavedModel> {
  const tf = await loadTfjs();
  const model = await tf.node.loadSavedModel(path, ["serve"], "serving_default");
  return {
    async run(input) {
      const x = tf.tensor(input.data, [...input.shape], "float32");
      try {
        type Tensor = import("@tensorflow/tfjs-node").Tensor;
        const out = model.predict(x) as Tensor | Tensor[];
        const tensors = Array.isArray(out) ? out : [out];
        const names = [...outputNames].sort();
        if (tensors.length !== names.length) throw new SavedModelError(`SavedModel gave ${tensors.length} outputs, expected ${names.join(", ")}`);
        const arrays: Record<string, NDArray<"float32">> = {};
        for (const [i, t] of tensors.entries()) {
          const name = names[i]!;
          arrays[name] = ndarray("float32", t.shape, (await t.data()) as Float32Array);
          t.dispose();
        }
        return arrays;
      } finally {
        x.dispose();
      }
    },
    async predict(inputs) {
      type Tensor = import("@tensorflow/tfjs-node").Tensor;
      // Every input checked first (an int64 one fits int32: tfjs-node has no int64 tensors to feed), then made a tensor.
      const feeds = Object.entries(inputs).map(([name, x]) => [name, tfjsFeed(name, x)] as const);
      const named = Object.fromEntries(feeds.map(([name, feed]) => [name, feedTensor(tf, feed)]));
      try {
        const out = model.predict(named) as Tensor | Tensor[] | Record<string, Tensor>;
        const tensors = out instanceof tf.Tensor ? [out] : Array.isArray(out) ? out : Object.keys(out).sort(bySignatureKey).map((k) => out[k]!);
        const arrays = await Promise.all(tensors.map(async (t) => ndarray("float32", t.shape, (await t.data()) as Float32Array)));
        tf.dispose(tensors);
        return arrays;
      } finally {
        tf.dispose(Object.values(named));
      }
    },
    dispose: () => model.dispose(),
  };
}

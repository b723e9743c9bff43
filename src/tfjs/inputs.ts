import { ModelError } from "../errors.js";
import type { NDArray } from "../wire/ndarray.js";
import type { Tfjs } from "./runtime.js";

type Tensor = import("@tensorflow/tfjs-node").Tensor;

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

/** One input as TF.js can hold it: its data, shape and TF.js dtype. */
export interface TfjsFeed {
  readonly data: Float32Array | Int32Array;
  readonly shape: number[];
  readonly dtype: "float32" | "int32";
}

/**
 * An input in TF.js's dtypes. TF.js has no int64 tensors, so an int64 input (keras.io's token ids:
 * `keras.Input(shape=(None,), dtype="int64")`) becomes int32 — the dtype its TF.js model declares —
 * after every value is checked to fit, so no id wraps around silently.
 * @throws {ModelError} with `details.input` for another dtype, or an int64 value outside int32.
 */
export function tfjsFeed(name: string, x: NDArray): TfjsFeed {
  if (x.dtype === "float32" || x.dtype === "int32") return { data: x.data as Float32Array | Int32Array, shape: [...x.shape], dtype: x.dtype };
  if (x.dtype !== "int64") throw new ModelError(`TF.js twin: input ${name} must be float32, int32 or int64, got ${x.dtype}`, { input: name });
  const values = x.data as BigInt64Array;
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < INT32_MIN || v > INT32_MAX) {
      throw new ModelError(`TF.js twin: input ${name} holds ${v} at index ${i}; TF.js computes int64 inputs in int32, which holds ${INT32_MIN} to ${INT32_MAX}`, { input: name });
    }
    out[i] = Number(v);
  }
  return { data: out, shape: [...x.shape], dtype: "int32" };
}

/** Every input checked and converted by {@link tfjsFeed} first, so a bad one fails before any tensor exists. */
export function tfjsFeeds(names: readonly string[], inputs: readonly NDArray[]): TfjsFeed[] {
  return inputs.map((x, i) => tfjsFeed(names[i] ?? `#${i}`, x));
}

export function feedTensor(tf: Tfjs, feed: TfjsFeed): Tensor {
  return tf.tensor(feed.data, feed.shape, feed.dtype);
}

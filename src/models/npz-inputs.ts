import type { TensorflowClient } from "../client.js";
import { ModelError } from "../errors.js";
import type { NDArray } from "../wire/ndarray.js";
import type { ModelHandle } from "./handle.js";

/**
 * A model's inputs from a NumPy `.npz` file on the worker's machine: by input name, else in input
 * order (`np.savez(f, a, b)` names them arr_0, arr_1…), checked against the input signature.
 * @throws {ModelError} naming the file and what does not match.
 */
export async function npzModelInputs(client: TensorflowClient, handle: ModelHandle, file: string): Promise<NDArray[]> {
  const arrays = await client.loadNpz(file);
  const names = Object.keys(arrays);
  let inputs: NDArray[];
  if (handle.inputs.every((i) => Object.hasOwn(arrays, i.name))) inputs = handle.inputs.map((i) => arrays[i.name]!);
  else if (names.length === handle.inputs.length && names.every((n, k) => n === `arr_${k}`)) inputs = names.map((n) => arrays[n]!);
  else throw new ModelError(`${file} holds ${names.join(", ") || "no arrays"}; the model's inputs are ${handle.inputs.map((i) => i.name).join(", ")}`, { file });
  try {
    return handle.orderInputs(inputs);
  } catch (e) {
    if (e instanceof ModelError) throw new ModelError(`${file}: ${e.message}`, { ...e.details, file });
    throw e;
  }
}

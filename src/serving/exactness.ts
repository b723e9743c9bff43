import { type Comparison, compareArrays } from "../parity/compare.js";
import type { NDArray } from "../wire/ndarray.js";
import type { ServePredictOptions, ServedPrediction } from "./registry.js";

/** How a merged run's rows compare with the same rows run alone. */
export interface BatchExactness {
  rows: number;
  /** Rows whose outputs differ in at least one bit from the row run alone. */
  rowsDiffering: number;
  maxAbsError: number;
  maxUlp: number;
}

type Predict = (inputs: NDArray[], options?: ServePredictOptions) => Promise<ServedPrediction>;

/** Row `r` of every input, as a batch of one. */
export function rowOf(inputs: readonly NDArray[], r: number): NDArray[] {
  return inputs.map((a) => {
    const size = a.data.length / a.shape[0]!;
    return { dtype: a.dtype, shape: [1, ...a.shape.slice(1)], data: a.data.slice(r * size, (r + 1) * size) } as NDArray;
  });
}

/**
 * Runs `inputs` (a batch) through `predict` once merged and once row by row, and compares each row's
 * outputs bit for bit: what dynamic batching changes for this model on this machine.
 */
export async function measureBatchExactness(predict: Predict, inputs: NDArray[], options: ServePredictOptions = {}): Promise<BatchExactness> {
  const rows = inputs[0]!.shape[0]!;
  const merged = await predict(inputs, options);
  const result: BatchExactness = { rows, rowsDiffering: 0, maxAbsError: 0, maxUlp: 0 };
  for (let r = 0; r < rows; r++) {
    const alone = await predict(rowOf(inputs, r), options);
    let differs = false;
    for (const name of alone.names) {
      const c: Comparison = compareArrays(rowOf([merged.outputs[name]!], 0 + r)[0]!, alone.outputs[name]!, { atol: 0, rtol: 0 });
      if (c.maxUlp > 0 || !c.comparable) differs = true;
      result.maxAbsError = Math.max(result.maxAbsError, c.maxAbsError);
      result.maxUlp = Math.max(result.maxUlp, c.maxUlp);
    }
    if (differs) result.rowsDiffering++;
  }
  return result;
}

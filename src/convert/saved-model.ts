import { basename } from "node:path";
import type { ModelHandle } from "../models/handle.js";
import { type Comparison, compareArrays } from "../parity/compare.js";
import { EXACT, INHERITED_TOLERANCE } from "../parity/model-parity.js";
import { loadTfjsSavedModel } from "../tfjs/savedmodel.js";
import type { NDArray } from "../wire/ndarray.js";

/** The SavedModel `convert --saved-model` writes beside the LayersModel, and how it agrees with the Session. */
export interface SavedModelProof {
  /** The folder, relative to OUTDIR. */
  dir: string;
  /** Per model output: tfjs-node's `tf.node.loadSavedModel` against the Python Session. */
  outputs: { name: string; comparison: Comparison }[];
  worstUlp: number;
  maxAbsError: number;
  /** Every output within 1e-5 (the whole graph runs in TensorFlow's C library: usually 0 ULP). */
  pass: boolean;
}

/**
 * Writes the model as a SavedModel (Keras's `model.export`) into `dir` and runs it with tfjs-node's
 * `tf.node.loadSavedModel` on `inputs`, against the Python Session's outputs.
 */
export async function proveSavedModel(handle: ModelHandle, inputs: NDArray[], dir: string): Promise<SavedModelProof> {
  await handle.exportSavedModel(dir);
  const session = await handle.predict(inputs);
  const model = await loadTfjsSavedModel(dir);
  try {
    const outputs = await model.predict(Object.fromEntries(handle.inputs.map((spec, i) => [spec.name, inputs[i]!])));
    const compared = session.names.map((output, i) => ({
      name: output,
      comparison: compareArrays(outputs[i]!, session.outputs[output]!, EXACT),
      within: compareArrays(outputs[i]!, session.outputs[output]!, INHERITED_TOLERANCE).pass,
    }));
    return {
      dir: basename(dir),
      outputs: compared.map(({ name: output, comparison }) => ({ name: output, comparison })),
      worstUlp: Math.max(0, ...compared.map((c) => c.comparison.maxUlp)),
      maxAbsError: Math.max(0, ...compared.map((c) => c.comparison.maxAbsError)),
      pass: compared.every((c) => c.within),
    };
  } finally {
    model.dispose();
  }
}

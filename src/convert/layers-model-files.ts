import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Tfjs } from "../tfjs/runtime.js";
import type { TfjsTopology } from "../tfjs/topology.js";

type LayersModel = import("@tensorflow/tfjs-node").LayersModel;

/** Weight shards of at most this many bytes, as tensorflowjs_converter writes them (browsers cache them one by one). */
const SHARD_BYTES = 4 * 1024 * 1024;

/** What a converted model.json says besides its topology and weights. */
export interface LayersModelMeta {
  generatedBy: string;
  convertedBy: string;
  /** Anything else to keep in model.json's `userDefinedMetadata`. */
  metadata?: Record<string, unknown>;
}

/**
 * Writes `model` as the files `tf.loadLayersModel` reads: `model.json` (format `layers-model`, the
 * given topology, the weights manifest) and `group1-shardNofM.bin`. The weights are encoded by TF.js
 * itself under the names its `loadWeights` looks for.
 * @returns the file names written.
 */
export async function writeLayersModel(tf: Tfjs, model: LayersModel, topology: TfjsTopology, dir: string, meta: LayersModelMeta): Promise<string[]> {
  // What LayersModel.save encodes (training.ts getNamedWeights): every weight under its originalName,
  // the name loadWeights looks up. Not save() itself: it would also serialize TF.js's own topology.
  // getWeights hands out the variables' own tensors: they stay with the model.
  const values = model.getWeights();
  const { data: encoded, specs } = await tf.io.encodeWeights(model.weights.map((w, i) => ({ name: w.originalName, tensor: values[i]! })));
  const data = Buffer.from(encoded as ArrayBuffer);
  const count = Math.max(1, Math.ceil(data.length / SHARD_BYTES));
  const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
  paths.forEach((path, i) => writeFileSync(join(dir, path), data.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES)));
  const modelJson = {
    format: "layers-model",
    generatedBy: meta.generatedBy,
    convertedBy: meta.convertedBy,
    modelTopology: topology,
    weightsManifest: [{ paths, weights: specs }],
    ...(meta.metadata ? { userDefinedMetadata: meta.metadata } : {}),
  };
  writeFileSync(join(dir, "model.json"), `${JSON.stringify(modelJson)}\n`);
  return ["model.json", ...paths];
}

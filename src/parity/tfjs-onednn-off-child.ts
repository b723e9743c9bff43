/**
 * The child process of {@link TfjsOnednnOff}: tfjs-node loaded with `TF_ENABLE_ONEDNN_OPTS=0` (TF reads
 * it once, when the library loads), running twins on request. One message in, one out, until the parent
 * disconnects.
 */
import type { LayerOutputInfo } from "../models/handle.js";
import { buildTfjsModel, loadTfjsModel } from "../tfjs/model.js";
import type { NDArray } from "../wire/ndarray.js";
import type { TwinRequest } from "./tfjs-onednn-off.js";

process.on("message", async (request: TwinRequest) => {
  try {
    const twin = request.modelJson ? await loadTfjsModel(request.modelJson) : await buildTfjsModel(request.config, request.weights);
    try {
      const outputs: NDArray[] = await twin.predict(request.inputs, request.layers as LayerOutputInfo[]);
      process.send!({ outputs: outputs.map(({ dtype, shape, data }) => ({ dtype, shape, data })) });
    } finally {
      await twin.dispose();
    }
  } catch (error) {
    process.send!({ error: `${(error as Error).name}: ${(error as Error).message}` });
  }
});
process.on("disconnect", () => process.exit(0));

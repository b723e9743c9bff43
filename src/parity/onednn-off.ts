import { Bridge } from "../bridge.js";
import type { KerasModelConfig } from "../models/config.js";
import type { ModelWeights, Prediction } from "../models/handle.js";
import type { NDArray } from "../wire/ndarray.js";

/** A model's outputs from the control worker: every layer's (marked graph) and the model's own (unmarked). */
export interface ControlRun {
  layers: Prediction;
  model: Prediction;
}

/**
 * A second worker started with `TF_ENABLE_ONEDNN_OPTS=0`: the same model, weights and inputs run on
 * TensorFlow's own kernels instead of oneDNN's. TF reads the switch once per process, so this cannot be
 * the user's worker. Started on first use (a model whose every layer is explained otherwise never pays
 * for it) and shared by every model of a sweep; `close()` stops it.
 */
export class OnednnOffWorker implements AsyncDisposable {
  private bridge: Promise<Bridge> | undefined;

  async run(config: KerasModelConfig, weights: ModelWeights, inputs: readonly NDArray[]): Promise<ControlRun> {
    this.bridge ??= Bridge.start({ env: { TF_ENABLE_ONEDNN_OPTS: "0" } });
    const bridge = await this.bridge;
    await using handle = await bridge.model(config, { weights });
    return { layers: await handle.predict(inputs, { outputs: "layers" }), model: await handle.predict(inputs) };
  }

  async close(): Promise<void> {
    const bridge = this.bridge;
    this.bridge = undefined;
    if (bridge) await (await bridge.catch(() => null))?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

import { Bridge } from "../bridge.js";
import type { KerasModelConfig } from "../models/config.js";
import type { LayerOutputInfo, ModelWeights, Prediction } from "../models/handle.js";
import type { NDArray } from "../wire/ndarray.js";
import { localOnednn } from "./environment.js";
import { TfjsOnednnOff } from "./tfjs-onednn-off.js";

/**
 * A model's outputs with oneDNN off: the Python Session's, every layer's (marked graph) and the model's
 * own (unmarked), and tfjs-node's per layer — null when tfjs-node in this process runs with oneDNN off
 * already, so the twin's own outputs are the control.
 */
export interface ControlRun {
  layers: Prediction;
  model: Prediction;
  tfjsLayers: NDArray[] | null;
}

/** The twin the control runs on tfjs-node: every layer output of `layers`, from a converted model.json if given. */
export interface ControlTwin {
  layers: readonly LayerOutputInfo[];
  modelJson?: string;
}

/**
 * The oneDNN-off control experiment: the same model, weights and inputs on TensorFlow's own kernels in
 * both runtimes — a second Python worker started with `TF_ENABLE_ONEDNN_OPTS=0` and, where tfjs-node here
 * runs oneDNN, a tfjs-node process started the same way (TF reads the switch once per process, so
 * neither can be the one in use). Each starts on first use (a model whose every layer is explained
 * otherwise never pays for it) and serves every model of a sweep; `close()` stops both.
 */
export class OnednnOffWorker implements AsyncDisposable {
  private bridge: Promise<Bridge> | undefined;
  private readonly tfjs = new TfjsOnednnOff();

  async run(config: KerasModelConfig, weights: ModelWeights, inputs: readonly NDArray[], twin: ControlTwin): Promise<ControlRun> {
    this.bridge ??= Bridge.start({ env: { TF_ENABLE_ONEDNN_OPTS: "0" } });
    const bridge = await this.bridge;
    const tfjsLayers = localOnednn().enabled ? this.tfjs.run({ config, weights, inputs, layers: twin.layers, modelJson: twin.modelJson }) : Promise.resolve(null);
    tfjsLayers.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
    await using handle = await bridge.model(config, { weights });
    const layers = await handle.predict(inputs, { outputs: "layers" });
    const model = await handle.predict(inputs);
    return { layers, model, tfjsLayers: await tfjsLayers };
  }

  async close(): Promise<void> {
    const bridge = this.bridge;
    this.bridge = undefined;
    await this.tfjs.close();
    if (bridge) await (await bridge.catch(() => null))?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

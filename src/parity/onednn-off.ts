import { Bridge } from "../bridge.js";
import type { KerasModelConfig } from "../models/config.js";
import type { LayerOutputInfo, ModelWeights, Prediction } from "../models/handle.js";
import type { NDArray } from "../wire/ndarray.js";
import type { WorkerInfo } from "../worker/info.js";
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
  /** Every layer's output from the Session with graph rewrites off as well. */
  unoptimized: Prediction;
  tfjsLayers: NDArray[] | null;
}

/** The twin the control runs on tfjs-node: every layer output of `layers`, from a converted model.json if given. */
export interface ControlTwin {
  layers: readonly LayerOutputInfo[];
  modelJson?: string;
  /** Run the twin again with oneDNN off (default true; false: only Python's side changes). */
  tfjs?: boolean;
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
  private tfjs: TfjsOnednnOff | undefined;

  /** Runs the model (its twin config and weights) on `inputs` with oneDNN off in both runtimes. */
  async run(config: KerasModelConfig, weights: ModelWeights, inputs: readonly NDArray[], twin: ControlTwin): Promise<ControlRun> {
    const bridge = await this.python();
    const tfjsLayers = localOnednn().enabled && twin.tfjs !== false ? (this.tfjs ??= new TfjsOnednnOff()).run({ config, weights, inputs, layers: twin.layers, modelJson: twin.modelJson }) : Promise.resolve(null);
    tfjsLayers.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
    await using handle = await bridge.model(config, { weights });
    const layers = await handle.predict(inputs, { outputs: "layers" });
    const model = await handle.predict(inputs);
    const unoptimized = await handle.predict(inputs, { outputs: "layers", mode: "session-unoptimized" });
    return { layers, model, unoptimized, tfjsLayers: await tfjsLayers };
  }

  /** What the control's Python worker says about itself (its `onednn` is off). */
  async info(): Promise<WorkerInfo> {
    return (await this.python()).info;
  }

  private python(): Promise<Bridge> {
    this.bridge ??= Bridge.start({ env: { TF_ENABLE_ONEDNN_OPTS: "0" } });
    return this.bridge;
  }

  /** Stops both control processes. */
  async close(): Promise<void> {
    const [bridge, tfjs] = [this.bridge, this.tfjs];
    this.bridge = undefined;
    this.tfjs = undefined;
    try {
      await tfjs?.close();
    } finally {
      if (bridge) await (await bridge.catch(() => null))?.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

import { type KerasLayerClasses, kerasCustomActivation, kerasCustomClass } from "../../src/tfjs-layers/index.js";
import type { Tfjs } from "../../src/tfjs/runtime.js";
import { type NDArray, ndarray } from "../../src/wire/ndarray.js";
import type { ReferenceCase, ReferenceResult } from "./keras-reference.js";

type Layer = InstanceType<Tfjs["layers"]["Layer"]>;
type Tensor = import("@tensorflow/tfjs-node").Tensor;

// The Keras 3 config keys that change inference numbers for the layers tested here, and their TF.js
// names; Keras's dtype policies, initializers and the like are not needed once weights are set.
const KEYS: Record<string, string> = {
  units: "units",
  activation: "activation",
  recurrent_activation: "recurrentActivation",
  use_bias: "useBias",
  return_sequences: "returnSequences",
  return_state: "returnState",
  go_backwards: "goBackwards",
  reset_after: "resetAfter",
  zero_output_for_mask: "zeroOutputForMask",
  unit_forget_bias: "unitForgetBias",
  filters: "filters",
  kernel_size: "kernelSize",
  strides: "strides",
  padding: "padding",
  dilation_rate: "dilationRate",
};

/** TF.js arguments for a Keras 3 layer config (a test-sized stand-in for the model translator). */
export function tfjsArgs(config: Record<string, unknown>): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const name = KEYS[key];
    if (name === undefined) continue;
    args[name] = typeof value === "string" && key.endsWith("activation") ? (kerasCustomActivation(value) ?? value) : value;
  }
  return args;
}

/** The TF.js layer for a Keras class name and config: ours where {@link kerasCustomClass} says so. */
export function tfjsLayer(tf: Tfjs, classes: KerasLayerClasses, className: string, config: Record<string, unknown>, stock = false): Layer {
  if (className === "Bidirectional") {
    const inner = config["layer"] as { class_name: string; config: Record<string, unknown> };
    return tf.layers.bidirectional({
      layer: tfjsLayer(tf, classes, inner.class_name, inner.config, stock) as never,
      mergeMode: (config["merge_mode"] ?? null) as never,
    });
  }
  const custom = kerasCustomClass(className, config);
  const args = tfjsArgs(config);
  // TF.js's own LSTM, every argument explicit: what a port without our classes would build.
  if (stock && className === "LSTM") return tf.layers.lstm({ ...args, unitForgetBias: false } as never);
  if (custom !== null) {
    const cls = Object.values(classes).find((c) => c.className === custom)!;
    return new (cls as unknown as new (a: unknown) => Layer)(args);
  }
  if (className === "Conv1D") return tf.layers.conv1d(args as never);
  throw new Error(`no TF.js layer for ${className} in this test`);
}

const toTensor = (tf: Tfjs, a: NDArray) => tf.tensor(a.data as Float32Array, [...a.shape], a.dtype === "int32" ? "int32" : "float32");

/**
 * Builds the case's model in TF.js (Masking / Embedding(maskZero) in front, initial states as
 * inputs) with the reference's weights (`stock`: TF.js's own LSTM instead of ours), runs it on the reference's inputs on the current backend and
 * returns every output.
 */
export async function runTfjsCase(tf: Tfjs, classes: KerasLayerClasses, c: ReferenceCase, ref: ReferenceResult, stock = false): Promise<NDArray<"float32">[]> {
  const embedding = c.mask === "embedding";
  const input = tf.input({ batchShape: embedding ? [c.batch, c.timesteps] : [c.batch, c.timesteps, c.features], dtype: embedding ? "int32" : "float32" });
  const pre = embedding
    ? tf.layers.embedding({ inputDim: c.vocab!, outputDim: c.features, maskZero: true, embeddingsInitializer: "zeros" })
    : c.mask === "masking"
      ? tf.layers.masking({ maskValue: 0 })
      : null;
  const states = (c.initial_state ?? []).map((u) => tf.input({ batchShape: [c.batch, u], dtype: "float32" }));
  const layer = tfjsLayer(tf, classes, c.class_name, ref.config, stock);
  const h = pre ? (pre.apply(input) as never) : input;
  // Initial states go in as extra inputs, not as the `initialState` kwarg: a model's executor replays
  // the recorded kwargs alongside its inputs, and RNN.apply refuses both at once.
  const out = layer.apply(states.length ? [h, ...states] : h);
  const model = tf.model({ inputs: [input, ...states], outputs: out as never });
  const setWeights = (l: Layer, ws: NDArray[]) => {
    const tensors = ws.map((w) => toTensor(tf, w));
    l.setWeights(tensors);
    tf.dispose(tensors);
  };
  if (pre) setWeights(pre, ref.preWeights);
  setWeights(layer, ref.layerWeights);
  const feeds = ref.inputs.map((a) => toTensor(tf, a));
  const result = model.predict(feeds) as Tensor | Tensor[];
  const outputs = Array.isArray(result) ? result : [result];
  const arrays = await Promise.all(outputs.map(async (t) => ndarray("float32", t.shape, (await t.data()) as Float32Array)));
  tf.dispose([...feeds, ...outputs]);
  model.dispose();
  return arrays;
}

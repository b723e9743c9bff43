import type { Activation } from "../spec/lstm.js";
import type { Tfjs } from "./runtime.js";

/** Keras 3's hard_sigmoid, registered with TF.js under this name by {@link registerKerasActivations}. */
export const KERAS3_HARD_SIGMOID = "keras3HardSigmoid";

/**
 * The TF.js activation that computes what the Keras name computes. `hard_sigmoid` maps to our own
 * Keras 3 formula, relu6(x + 3) / 6, not to TF.js's `hardSigmoid`, which is clip(0.2x + 0.5, 0, 1)
 * (see src/parity/traps.ts).
 */
export const TFJS_ACTIVATION: Readonly<Record<Activation, string>> = {
  tanh: "tanh",
  relu: "relu",
  sigmoid: "sigmoid",
  linear: "linear",
  hard_sigmoid: KERAS3_HARD_SIGMOID,
};

/** What a port that trusts names would use: TF.js's hardSigmoid is Keras 2's formula. */
export const NAIVE_TFJS_ACTIVATION: Readonly<Record<Activation, string>> = { ...TFJS_ACTIVATION, hard_sigmoid: "hardSigmoid" };

let registered = false;

/** Makes Keras 3's hard_sigmoid known to TF.js layers by name, once per process. */
export function registerKerasActivations(tf: Tfjs): void {
  if (registered) return;
  class Keras3HardSigmoid extends tf.serialization.Serializable {
    static readonly className = KERAS3_HARD_SIGMOID;
    // The ops of keras/src/backend/tensorflow/nn.py hard_sigmoid, in its order: relu6(x + 3) / 6.
    apply(x: import("@tensorflow/tfjs-node").Tensor) {
      return tf.tidy(() => tf.div(tf.relu6(tf.add(x, tf.scalar(3, "float32"))), tf.scalar(6, "float32")));
    }
    getConfig() {
      return {};
    }
  }
  tf.serialization.registerClass(Keras3HardSigmoid);
  registered = true;
}

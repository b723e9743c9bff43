import { KERAS3_HARD_SIGMOID } from "./names.js";
import type { Tensor, TfModule } from "./tfjs-types.js";

/** What `registerKerasLayers` registers as `Keras3HardSigmoid`: a TF.js activation class. */
export interface ActivationClass {
  new (): { apply(x: Tensor): Tensor; getConfig(): Record<string, never> };
  readonly className: string;
}

/**
 * Keras 3's hard_sigmoid as a TF.js activation class, found by name (`keras3HardSigmoid`) by every
 * layer's `activation` / `recurrentActivation` once registered.
 */
export function defineKeras3HardSigmoid(tf: TfModule): ActivationClass {
  return class Keras3HardSigmoid extends tf.serialization.Serializable {
    static readonly className = KERAS3_HARD_SIGMOID;
    // keras/src/backend/tensorflow/nn.py hard_sigmoid, the same ops in its order: relu6(x + 3) / 6.
    apply(x: Tensor): Tensor {
      return tf.tidy(() => tf.div(tf.relu6(tf.add(x, tf.scalar(3, "float32"))), tf.scalar(6, "float32")));
    }
    getConfig(): Record<string, never> {
      return {};
    }
  };
}

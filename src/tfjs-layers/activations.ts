import { KERAS3_EXPONENTIAL, KERAS3_HARD_SILU, KERAS3_HARD_TANH, KERAS3_LEAKY_RELU, KERAS3_LOG_SIGMOID, KERAS3_TANH_SHRINK } from "./names.js";
import type { ActivationClass } from "./hard-sigmoid.js";
import type { Tensor, TfModule } from "./tfjs-types.js";

/**
 * Keras 3 activations TF.js has no activation for, as TF.js activation classes found by name once
 * registered. Each is keras/src/backend/tensorflow/nn.py's (or activations.py's) ops in its order,
 * so tfjs-node runs the same TF kernels one by one.
 */
export function defineKeras3Activations(tf: TfModule): Record<string, ActivationClass> {
  const f32 = (v: number) => tf.scalar(v, "float32");
  const define = (className: string, fn: (x: Tensor) => Tensor): ActivationClass =>
    class extends tf.serialization.Serializable {
      static readonly className = className;
      apply(x: Tensor): Tensor {
        return tf.tidy(() => fn(x));
      }
      getConfig(): Record<string, never> {
        return {};
      }
    };
  // hard_sigmoid as Keras 3 computes it: relu6(x + 3) / 6.
  const hardSigmoid = (x: Tensor) => tf.div(tf.relu6(tf.add(x, f32(3))), f32(6));
  return {
    // nn.py hard_silu: x * hard_sigmoid(x).
    [KERAS3_HARD_SILU]: define(KERAS3_HARD_SILU, (x) => tf.mul(x, hardSigmoid(x))),
    // activations.py leaky_relu(x, negative_slope=0.2) → tf.nn.leaky_relu (TF's LeakyRelu kernel).
    [KERAS3_LEAKY_RELU]: define(KERAS3_LEAKY_RELU, (x) => tf.leakyRelu(x, 0.2)),
    // activations.py exponential: ops.exp.
    [KERAS3_EXPONENTIAL]: define(KERAS3_EXPONENTIAL, (x) => tf.exp(x)),
    // nn.py hard_tanh: tf.clip_by_value(x, -1, 1).
    [KERAS3_HARD_TANH]: define(KERAS3_HARD_TANH, (x) => tf.clipByValue(x, -1, 1)),
    // nn.py log_sigmoid: tf.math.log_sigmoid, which TF computes as -softplus(-x).
    [KERAS3_LOG_SIGMOID]: define(KERAS3_LOG_SIGMOID, (x) => tf.neg(tf.softplus(tf.neg(x)))),
    // nn.py tanh_shrink: x - tanh(x).
    [KERAS3_TANH_SHRINK]: define(KERAS3_TANH_SHRINK, (x) => tf.sub(x, tf.tanh(x))),
  };
}

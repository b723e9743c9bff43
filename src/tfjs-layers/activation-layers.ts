import { TFBRIDGE_ELU, TFBRIDGE_LEAKY_RELU, TFBRIDGE_PRELU, TFBRIDGE_RELU, TFBRIDGE_SOFTMAX } from "./names.js";
import { ignoresMask, layerMask } from "./stock-mask.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type Layer = InstanceType<TfModule["layers"]["Layer"]>;

/** One of the activation layer classes `registerKerasLayers` registers (TfbridgeReLU, TfbridgeLeakyReLU, TfbridgePReLU, TfbridgeELU, TfbridgeSoftmax). */
export interface TfbridgeActivationLayerClass {
  new (args?: object): Layer;
  readonly className: string;
}

/** The activation layers' configs as TF.js hands them over (Keras's snake_case keys, camel-cased). */
interface ActivationLayerArgs {
  maxValue?: number | null;
  negativeSlope?: number;
  threshold?: number;
  alpha?: number;
  axis?: number | number[];
}

const one = (inputs: Tensor | Tensor[]) => (Array.isArray(inputs) ? inputs[0]! : inputs);

/**
 * Keras 3's ReLU, LeakyReLU, PReLU, ELU and Softmax layers as TF.js classes, each computing with
 * keras/src/activations/activations.py's and keras/src/backend/tensorflow/nn.py's ops in their order
 * (on tfjs-node these are the same TF kernels, one by one). TF.js's own ReLU has only maxValue, its
 * LeakyReLU and ELU read other argument names (alpha; ELU refuses alpha ≠ 1), its Softmax takes one
 * axis and no mask, and its PReLU sums `alpha · (x - |x|) · 0.5` instead of Keras's `-alpha · relu(-x)`.
 */
export function defineActivationLayers(tf: TfModule): Record<string, TfbridgeActivationLayerClass> {
  const f32 = (v: number) => tf.scalar(v, "float32");

  /** A layer with Keras's config whose output has its input's shape (and mask). */
  const elementwise = (className: string, keys: (keyof ActivationLayerArgs)[], fn: (x: Tensor, args: ActivationLayerArgs) => Tensor): TfbridgeActivationLayerClass =>
    class extends tf.layers.Layer {
      static readonly className = className;
      readonly args: ActivationLayerArgs;
      constructor(args: ActivationLayerArgs & object = {}) {
        super(args as never);
        this.supportsMasking = true;
        this.args = Object.fromEntries(keys.map((k) => [k, args[k]]));
      }
      override call(inputs: Tensor | Tensor[]): Tensor {
        return tf.tidy(() => fn(one(inputs), this.args));
      }
      override getConfig() {
        return { ...super.getConfig(), ...this.args };
      }
    };

  /** activations.py ReLU.static_call, branch by branch. */
  const relu = (x: Tensor, { maxValue = null, negativeSlope = 0, threshold = 0 }: ActivationLayerArgs): Tensor => {
    let negativePart: Tensor | null = null;
    if (negativeSlope !== 0) {
      if (maxValue === null && threshold === 0) return tf.leakyRelu(x, negativeSlope);
      negativePart = threshold !== 0 ? tf.relu(tf.add(tf.neg(x), f32(threshold))) : tf.relu(tf.neg(x));
    }
    let clipMax = maxValue !== null;
    let y: Tensor;
    if (threshold !== 0) y = tf.where(tf.greater(x, f32(threshold)), x, tf.zerosLike(x));
    else if (maxValue === 6) {
      y = tf.relu6(x);
      clipMax = false;
    } else y = tf.relu(x);
    if (clipMax) y = tf.clipByValue(y, 0, maxValue!);
    if (negativePart) y = tf.sub(y, tf.mul(f32(negativeSlope), negativePart));
    return y;
  };

  // nn.py elu: tf.nn.elu, then where(x > 0, res, alpha * res) unless alpha is 1.
  const elu = (x: Tensor, { alpha = 1 }: ActivationLayerArgs): Tensor => {
    const res = tf.elu(x);
    return alpha === 1 ? res : tf.where(tf.greater(x, f32(0)), res, tf.mul(f32(alpha), res));
  };

  const PReLUBase = tf.serialization.SerializationMap.getMap().classNameMap["PReLU"]![0] as unknown as new (args?: object) => Layer;
  /** TF.js's PReLU (the same alpha weight and shared_axes) with prelu.py's call: relu(x) + -alpha · relu(-x). */
  class TfbridgePReLU extends PReLUBase {
    static readonly className = TFBRIDGE_PRELU;
    override call(inputs: Tensor | Tensor[]): Tensor {
      const alpha = (this as unknown as { alpha: { read(): Tensor } }).alpha.read();
      return tf.tidy(() => {
        const x = one(inputs);
        return tf.add(tf.relu(x), tf.mul(tf.neg(alpha), tf.relu(tf.neg(x))));
      });
    }
  }

  /**
   * softmax.py: masked positions set to -1e9 before and to 0 after; a list of several axes is
   * exp(x - logsumexp(x)); one axis is tf.nn.softmax, which moves that axis last and back.
   */
  class TfbridgeSoftmax extends tf.layers.Layer {
    static readonly className = TFBRIDGE_SOFTMAX;
    readonly axis: number | number[];
    readonly ignoreMask: boolean;
    constructor(args: ActivationLayerArgs & object = {}) {
      super(args as never);
      this.supportsMasking = true;
      this.axis = args.axis ?? -1;
      this.ignoreMask = ignoresMask(args);
    }
    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
      const mask = layerMask(kwargs, this.ignoreMask);
      return tf.tidy(() => {
        let x = one(inputs);
        const keep = mask ? (mask.dtype === "bool" ? mask : tf.greater(mask, tf.scalar(0.5, mask.dtype))) : null;
        if (keep) x = tf.where(keep, x, tf.fill(x.shape, -1e9, "float32"));
        const axes = (Array.isArray(this.axis) ? this.axis : [this.axis]).map((a) => (a < 0 ? a + x.rank : a));
        let out: Tensor;
        if (axes.length > 1) out = tf.exp(tf.sub(x, logSumExp(x, axes)));
        else if (axes[0] === x.rank - 1) out = tf.softmax(x);
        else {
          const swap = x.shape.map((_, i) => (i === axes[0] ? x.rank - 1 : i === x.rank - 1 ? axes[0]! : i));
          out = tf.transpose(tf.softmax(tf.transpose(x, swap)), swap);
        }
        return keep ? tf.where(keep, out, tf.zerosLike(out)) : out;
      });
    }
    override getConfig() {
      return { ...super.getConfig(), axis: this.axis, ignoreMask: this.ignoreMask };
    }
  }

  /** tf.math.reduce_logsumexp with keepdims: log(sum(exp(x - m))) + m, m the finite maximum. */
  function logSumExp(x: Tensor, axes: number[]): Tensor {
    const raw = tf.max(x, axes, true);
    const m = tf.where(tf.isFinite(raw), raw, tf.zerosLike(raw));
    return tf.add(tf.log(tf.sum(tf.exp(tf.sub(x, m)), axes, true)), m);
  }

  return {
    [TFBRIDGE_RELU]: elementwise(TFBRIDGE_RELU, ["maxValue", "negativeSlope", "threshold"], relu),
    // leaky_relu.py → activations.leaky_relu → tf.nn.leaky_relu.
    [TFBRIDGE_LEAKY_RELU]: elementwise(TFBRIDGE_LEAKY_RELU, ["negativeSlope"], (x, { negativeSlope = 0.3 }) => tf.leakyRelu(x, negativeSlope)),
    [TFBRIDGE_ELU]: elementwise(TFBRIDGE_ELU, ["alpha"], elu),
    [TFBRIDGE_PRELU]: TfbridgePReLU,
    [TFBRIDGE_SOFTMAX]: TfbridgeSoftmax,
  };
}

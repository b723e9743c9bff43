import type { KerasActivation } from "../models/layers.js";
import { layers } from "../models/layers.js";
import type { Layer } from "../models/builder.js";

/** The random choices a generator block makes (model-generator's seeded Choices). */
export interface BlockChoices {
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** Keras 3 activations added with issue 20 that stay finite on any input (exponential can overflow). */
const NEW_ACTIVATIONS: KerasActivation[] = ["hard_silu", "hard_swish", "mish", "leaky_relu", "log_softmax", "hard_tanh", "log_sigmoid", "tanh_shrink"];

/**
 * A random shape-keeping layer of issue 20's activation and preprocessing set, for a
 * [batch, steps, channels] sequence in the model sweep: an activation layer with Keras 3's
 * arguments, Rescaling, Normalization from config values, Identity, or a new activation.
 * (Normalization with adapted weights is left out: the sweep's random weights are all float32,
 * its count is int64.)
 */
export function activationLayerBlock(c: BlockChoices, channels: number): Layer {
  // Not Softmax: under an Embedding's [batch, steps] mask Keras refuses a Softmax on [batch, steps, channels].
  switch (c.pick(["relu", "leaky", "prelu", "elu", "rescaling", "normalization", "identity", "activation"] as const)) {
    case "relu":
      return layers.reLU({ maxValue: c.chance(0.5) ? c.pick([1, 6]) : null, negativeSlope: c.pick([0, 0.1]), threshold: c.pick([0, 0.25]) });
    case "leaky":
      return layers.leakyReLU({ negativeSlope: c.pick([0.3, 0.05]) });
    case "prelu":
      return layers.prelu({ sharedAxes: c.chance(0.5) ? [1] : null });
    case "elu":
      return layers.elu({ alpha: c.pick([1, 0.5]) });
    case "rescaling":
      return layers.rescaling({ scale: c.pick([0.5, 2]), offset: c.pick([0, -0.25]) });
    case "normalization": {
      const perChannel = c.chance(0.5);
      const values = (v: number) => (perChannel ? Array.from({ length: channels }, (_, i) => v + 0.25 * i) : v);
      return layers.normalization({ mean: values(0.1), variance: values(0.5), invert: c.chance(0.3) });
    }
    case "identity":
      return layers.identity();
    default:
      return layers.activation({ activation: c.pick(NEW_ACTIVATIONS) });
  }
}

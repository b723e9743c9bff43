import type { KerasActivation } from "../models/layers.js";
import { layers } from "../models/layers.js";
import type { SymbolicTensor } from "../models/builder.js";

/** The random choices a generator block makes (model-generator's seeded Choices). */
export interface BlockChoices {
  int(low: number, high: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** A [batch, steps, channels] sequence being grown (model-generator's Flow). */
export interface SequenceFlow {
  t: SymbolicTensor;
  steps: number | null;
  channels: number;
}

/** Keras 3 activations added with issue 20 that stay finite on any input (exponential can overflow). */
const NEW_ACTIVATIONS: KerasActivation[] = ["hard_silu", "hard_swish", "mish", "leaky_relu", "log_softmax", "hard_tanh", "log_sigmoid", "tanh_shrink"];

/**
 * A random block of issue 20's activation, preprocessing and merge layers on a sequence, for the
 * model sweep: a shape-keeping layer (an activation layer with Keras 3's arguments, Rescaling,
 * Normalization from config values, Identity, a new activation), a Dot of two projections, or the
 * sequence as a one-channel image through the image layers and back.
 */
export function preprocessingBlock(c: BlockChoices, f: SequenceFlow): SequenceFlow {
  const what = c.pick(["elementwise", "elementwise", "dot", "image"] as const);
  if (what === "dot") {
    // [batch, steps, u] · [batch, steps, u] over the features: [batch, steps, steps].
    const units = c.int(1, 4);
    const a = layers.dense({ units }).apply(f.t);
    const b = layers.dense({ units, activation: "tanh" }).apply(f.t);
    return { t: layers.dot({ axes: 2, normalize: c.chance(0.5) }).apply([a, b]), steps: f.steps, channels: f.steps! };
  }
  if (what === "image") return imageDetour(c, f);
  return { ...f, t: elementwise(c, f.channels).apply(f.t) };
}

/** A layer that keeps its input's shape (and mask). Not Softmax: under an Embedding's [batch, steps] mask Keras refuses a Softmax on [batch, steps, channels]. */
function elementwise(c: BlockChoices, channels: number) {
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
      // From config values: the sweep's random weights are float32, an adapted one's count is int64.
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

/**
 * [batch, steps, channels] as a [batch, steps, channels, 1] image (Reshape drops any mask, as in
 * Keras): an augmentation layer (the identity at inference), a PReLU shared over the image, a softmax over it, Resizing
 * (or CenterCrop) to a new size, and back to a sequence of that size.
 */
function imageDetour(c: BlockChoices, f: SequenceFlow): SequenceFlow {
  const h = f.steps!;
  const w = f.channels;
  let x = layers.reshape({ targetShape: [h, w, 1] }).apply(f.t);
  const augment = c.pick([
    () => layers.randomFlip(),
    () => layers.randomRotation({ factor: 0.2 }),
    () => layers.randomZoom({ heightFactor: 0.2 }),
    () => layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.1 }),
    () => layers.randomContrast({ factor: 0.3 }),
    () => layers.randomBrightness({ factor: 0.2 }),
  ]);
  x = augment().apply(x);
  if (c.chance(0.5)) x = layers.prelu({ sharedAxes: [1, 2] }).apply(x);
  if (c.chance(0.5)) x = layers.softmax({ axis: c.pick([1, [1, 2]]) }).apply(x);
  const height = c.int(1, 6);
  const width = c.int(1, 6);
  if (c.chance(0.3)) x = layers.centerCrop({ height, width }).apply(x);
  else {
    const aspect = c.pick(["none", "crop", "pad"] as const);
    x = layers.resizing({ height, width, interpolation: c.pick(["bilinear", "nearest"] as const), cropToAspectRatio: aspect === "crop", padToAspectRatio: aspect === "pad" }).apply(x);
  }
  return { t: layers.reshape({ targetShape: [height, width] }).apply(x), steps: height, channels: width };
}

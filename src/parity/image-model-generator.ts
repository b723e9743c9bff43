import type { KerasModelConfig } from "../models/config.js";
import { type KerasActivation, layers } from "../models/layers.js";
import { type Layer, type SymbolicTensor, input, model, modelLayer } from "../models/builder.js";

/** The seeded draws an image model is made from (model-generator.ts's Choices). */
export interface Draws {
  int(low: number, high: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** An image being grown: [batch, height, width, channels]. */
interface Image {
  t: SymbolicTensor;
  h: number;
  w: number;
  channels: number;
}

// ReLU-ish, as image models use them; gelu's bound is the sequence models' to cover.
const ACTIVATIONS: KerasActivation[] = ["relu", "relu6", "silu", "elu", "linear", "tanh", "sigmoid"];
/** Upsampling and transposed convolutions only while the image is this small, so models stay test-sized. */
const MAX_PIXELS = 64;

const on = (layer: Layer, x: Image, h = x.h, w = x.w, channels = x.channels): Image => ({ t: layer.apply(x.t), h, w, channels });
/** Keras's output length of a (dilated) convolution or pooling window along one axis. */
const outLength = (size: number, window: number, stride: number, padding: "valid" | "same") => (padding === "same" ? Math.ceil(size / stride) : Math.ceil((size - window + 1) / stride));

const divisors = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);

/** A Conv2D (grouped or not), DepthwiseConv2D or SeparableConv2D with random arguments, or the image unchanged when it would not fit. */
function convolution(c: Draws, x: Image): Image {
  const kind = c.pick(["conv", "conv", "depthwise", "separable"] as const);
  const kernelSize = c.int(1, 3);
  const strides = c.chance(0.3) ? 2 : 1;
  const dilationRate = strides === 1 && kernelSize > 1 && c.chance(0.4) ? 2 : 1;
  const padding = c.pick(["valid", "same"] as const);
  const span = (kernelSize - 1) * dilationRate + 1;
  if (padding === "valid" && (span > x.h || span > x.w)) return x;
  const [h, w] = [outLength(x.h, span, strides, padding), outLength(x.w, span, strides, padding)];
  const common = { kernelSize, strides, dilationRate, padding, activation: c.pick(ACTIVATIONS), useBias: c.chance(0.8) };
  if (kind === "depthwise") {
    const depthMultiplier = c.int(1, 2);
    return on(layers.depthwiseConv2d({ ...common, depthMultiplier }), x, h, w, x.channels * depthMultiplier);
  }
  if (kind === "conv" && x.channels > 1 && c.chance(0.3)) {
    // A grouped convolution (ConvNeXt's depthwise 7×7 is one group per channel): groups divide both the channels and the filters.
    const groups = c.pick(divisors(x.channels).filter((g) => g > 1));
    const filters = groups * c.int(1, 2);
    return on(layers.conv2d({ ...common, filters, groups }), x, h, w, filters);
  }
  const filters = c.int(1, 6);
  const layer = kind === "conv" ? layers.conv2d({ ...common, filters }) : layers.separableConv2d({ ...common, filters, depthMultiplier: c.int(1, 2) });
  return on(layer, x, h, w, filters);
}

/** A convolution, often followed by BatchNormalization and an activation (a MobileNet-style unit). */
function convBlock(c: Draws, x: Image): Image {
  let y = convolution(c, x);
  if (y !== x && c.chance(0.5)) y = on(layers.batchNormalization({ epsilon: c.pick([1e-3, 1e-5]), center: c.chance(0.8), scale: c.chance(0.8) }), y);
  if (y !== x && c.chance(0.4)) y = on(layers.activation({ activation: c.pick(["relu", "relu6", "silu"] as const) }), y);
  return y;
}

/** One block on an image; keeps it an image of at least 1×1. */
function imageBlock(c: Draws, x: Image): Image {
  const what = c.pick(["conv", "conv", "conv", "pool", "pad", "crop", "upsample", "transpose", "residual", "residual", "volume"]);
  switch (what) {
    case "volume": {
      // The channels as a third spatial axis: Reshape to [h, w, c, 1], a Conv3D, Reshape back to an image.
      const [kernelSize, padding] = [[c.int(1, 2), c.int(1, 2), c.int(1, 2)] as [number, number, number], c.pick(["valid", "same"] as const)];
      const strides = c.chance(0.3) ? 2 : 1;
      const dilationRate = strides === 1 && c.chance(0.3) ? 2 : 1;
      const dims = [x.h, x.w, x.channels].map((n, i) => outLength(n, (kernelSize[i]! - 1) * dilationRate + 1, strides, padding));
      if (dims.some((n) => n < 1)) return x;
      const filters = c.int(1, 3);
      const volume = layers.reshape({ targetShape: [x.h, x.w, x.channels, 1] }).apply(x.t);
      const convolved = layers.conv3d({ filters, kernelSize, strides, padding, dilationRate, activation: c.pick(ACTIVATIONS) }).apply(volume);
      const [h, w, depth] = dims as [number, number, number];
      return { t: layers.reshape({ targetShape: [h, w, depth * filters] }).apply(convolved), h, w, channels: depth * filters };
    }
    case "pool": {
      const poolSize = c.int(2, 3);
      const padding = c.pick(["valid", "same"] as const);
      if (padding === "valid" && (poolSize > x.h || poolSize > x.w)) return x;
      const pool = c.chance(0.5) ? layers.maxPooling2d({ poolSize, padding }) : layers.averagePooling2d({ poolSize, padding });
      return on(pool, x, outLength(x.h, poolSize, poolSize, padding), outLength(x.w, poolSize, poolSize, padding));
    }
    case "pad": {
      const padding: [[number, number], [number, number]] = [[c.int(0, 2), c.int(0, 2)], [c.int(0, 2), c.int(0, 2)]];
      return on(layers.zeroPadding2d({ padding }), x, x.h + padding[0][0] + padding[0][1], x.w + padding[1][0] + padding[1][1]);
    }
    case "crop": {
      const cropping: [[number, number], [number, number]] = [[c.int(0, 1), c.int(0, 1)], [c.int(0, 1), c.int(0, 1)]];
      const [h, w] = [x.h - cropping[0][0] - cropping[0][1], x.w - cropping[1][0] - cropping[1][1]];
      return h >= 1 && w >= 1 ? on(layers.cropping2d({ cropping }), x, h, w) : x;
    }
    case "upsample": {
      if (x.h * x.w > MAX_PIXELS) return x;
      const size: [number, number] = [c.int(1, 2), c.int(1, 2)];
      return on(layers.upSampling2d({ size, interpolation: c.pick(["nearest", "bilinear"] as const) }), x, x.h * size[0], x.w * size[1]);
    }
    case "transpose": {
      if (x.h * x.w > MAX_PIXELS) return x;
      const [kernelSize, strides, padding, filters] = [c.int(1, 3), c.int(1, 2), c.pick(["valid", "same"] as const), c.int(1, 4)];
      const grow = (n: number) => (padding === "same" ? n * strides : (n - 1) * strides + Math.max(kernelSize, strides));
      return on(layers.conv2dTranspose({ filters, kernelSize, strides, padding, activation: c.pick(ACTIVATIONS) }), x, grow(x.h), grow(x.w), filters);
    }
    case "residual": {
      // Two same-shape branches added: a same-padded convolution keeping the channels, and the input or a 1×1 projection.
      const kernelSize = c.int(1, 3);
      const body = c.chance(0.5)
        ? layers.conv2d({ filters: x.channels, kernelSize, padding: "same", activation: c.pick(ACTIVATIONS) })
        : layers.depthwiseConv2d({ kernelSize, padding: "same", activation: c.pick(ACTIVATIONS) });
      const branch = on(body, x);
      const shortcut = c.chance(0.5) ? x : on(layers.conv2d({ filters: x.channels, kernelSize: 1, useBias: false }), x);
      return { ...x, t: layers.add().apply([branch.t, shortcut.t]) };
    }
    default:
      return convBlock(c, x);
  }
}

/** Reduces an image to [batch, channels]: global pooling (with keepdims and a Flatten, sometimes) or a Flatten. */
function imageHead(c: Draws, x: Image): SymbolicTensor {
  const what = c.pick(["globalAvg", "globalAvg", "globalMax", "flatten"] as const);
  if (what === "flatten") return layers.flatten().apply(x.t);
  const keepdims = c.chance(0.3);
  const pooled = (what === "globalAvg" ? layers.globalAveragePooling2d({ keepdims }) : layers.globalMaxPooling2d({ keepdims })).apply(x.t);
  return keepdims ? layers.flatten().apply(pooled) : pooled;
}

/**
 * A random but valid image model: an [h, w, c] float input (5–12 pixels a side, 1–4 channels), 1–4
 * 2-D blocks (Conv2D / DepthwiseConv2D / SeparableConv2D with BatchNormalization and ReLU-ish
 * activations, pooling, zero padding, cropping, upsampling, transposed convolution, residual Add of
 * two same-shape branches, a Conv3D over the channels as a third axis), sometimes inside a nested base
 * model, a 2-D head (global pooling or Flatten) and a Dense output.
 */
export function randomImageModel(c: Draws, name: string): KerasModelConfig {
  const [h, w, channels] = [c.int(5, 12), c.int(5, 12), c.int(1, 4)];
  const x = input({ shape: [h, w, channels], name: "image" });
  // A transfer-learning model's shape, sometimes: the blocks as a nested base model called on the image.
  const nested = c.chance(0.25);
  const start = nested ? input({ shape: [h, w, channels], name: "base_image" }) : x;
  let image: Image = { t: start, h, w, channels };
  for (let i = c.int(1, 4); i > 0; i--) image = imageBlock(c, image);
  if (nested) image = { ...image, t: modelLayer(model({ inputs: start, outputs: image.t, name: `${name}_base` })).apply(x) };
  const out = layers.dense({ units: c.int(1, 4), activation: c.pick(["linear", "softmax", "sigmoid", "tanh"] as const) }).apply(imageHead(c, image));
  return model({ inputs: x, outputs: out, name });
}

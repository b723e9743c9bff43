import { TFBRIDGE_DEPTHWISE_CONV2D } from "./names.js";
import { withSpaceToBatch } from "./space-to-batch.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type DepthwiseConv2D = ReturnType<TfModule["layers"]["depthwiseConv2d"]>;
type Shape = (number | null)[];
type Variable = { read(): Tensor };

/** The registered {@link TFBRIDGE_DEPTHWISE_CONV2D} class. */
export interface TfbridgeDepthwiseConv2DClass {
  new (args: Parameters<TfModule["layers"]["depthwiseConv2d"]>[0]): DepthwiseConv2D;
  readonly className: string;
}

/** The output length of a dilated convolution along one axis, as Keras computes it. */
function outputLength(size: number | null, kernel: number, padding: string, stride: number, dilation: number): number | null {
  if (size === null) return null;
  const span = (kernel - 1) * dilation + 1;
  return padding === "same" ? Math.ceil(size / stride) : Math.ceil((size - span + 1) / stride);
}

/**
 * Keras 3's DepthwiseConv2D as a TF.js class: TF.js's own (same weights: kernel
 * `[kh, kw, in, depth_multiplier]`, bias `[in · depth_multiplier]`; same config) that honours
 * `dilation_rate`. TF.js's class stores the dilation and then calls the op with none ("TODO: Add
 * support for dilation" in its source), so a dilated model would come out with another shape and other
 * numbers. This one runs what keras/src/backend/tensorflow/nn.py `depthwise_conv` runs
 * (tf.nn.depthwise_conv2d): the undilated depthwise convolution inside {@link withSpaceToBatch}, then
 * the bias add and the activation.
 */
export function defineDepthwiseConv2D(tf: TfModule): TfbridgeDepthwiseConv2DClass {
  const Base = tf.serialization.SerializationMap.getMap().classNameMap["DepthwiseConv2D"]![0] as unknown as new (args: object) => DepthwiseConv2D;
  return class TfbridgeDepthwiseConv2D extends Base {
    static readonly className = TFBRIDGE_DEPTHWISE_CONV2D;

    override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
      const self = this as unknown as {
        depthwiseKernel: Variable; bias: Variable | null; useBias: boolean; strides: [number, number]; padding: "valid" | "same";
        dilationRate: [number, number]; activation: { apply(x: Tensor): Tensor } | null;
      };
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const kernel = self.depthwiseKernel.read();
        const convolve = (input: Tensor) => tf.depthwiseConv2d(input as never, kernel as never, 1, "valid") as Tensor;
        let y = withSpaceToBatch(tf, x, kernel.shape, self.dilationRate, self.padding, convolve);
        if (self.useBias && self.bias) y = tf.add(y, self.bias.read());
        return self.activation ? self.activation.apply(y) : y;
      });
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      const self = this as unknown as { kernelSize: number[]; strides: number[]; padding: string; dilationRate: number[]; depthMultiplier: number };
      const [batch, rows, cols, channels] = shape;
      return [
        batch ?? null,
        outputLength(rows ?? null, self.kernelSize[0]!, self.padding, self.strides[0]!, self.dilationRate[0]!),
        outputLength(cols ?? null, self.kernelSize[1]!, self.padding, self.strides[1]!, self.dilationRate[1]!),
        channels == null ? null : channels * self.depthMultiplier,
      ];
    }
  };
}

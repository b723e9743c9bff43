import { type ConvFields, finish, registered } from "./conv-fields.js";
import { TFBRIDGE_SEPARABLE_CONV2D } from "./names.js";
import { withSpaceToBatch } from "./space-to-batch.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type SeparableConv2D = ReturnType<TfModule["layers"]["separableConv2d"]>;
type Variable = { read(): Tensor };

/** The registered {@link TFBRIDGE_SEPARABLE_CONV2D} class. */
export interface TfbridgeSeparableConv2DClass {
  new (args: Parameters<TfModule["layers"]["separableConv2d"]>[0]): SeparableConv2D;
  readonly className: string;
}

/**
 * Keras 3's SeparableConv2D with a dilation rate above 1 as a TF.js class: TF.js's own (same weights:
 * depthwise kernel, pointwise kernel, bias) computing what Keras's `tf.nn.separable_conv2d` builds —
 * the undilated depthwise convolution inside {@link withSpaceToBatch}, then the 1×1 pointwise Conv2D
 * — then bias add and activation. TF.js's `separableConv2d` hands the dilation to the depthwise op,
 * which TF's CPU kernel refuses without oneDNN.
 */
export function defineSeparableConv2D(tf: TfModule): TfbridgeSeparableConv2DClass {
  const Base = registered<new (args: object) => SeparableConv2D>(tf, "SeparableConv2D");
  return class TfbridgeSeparableConv2D extends Base {
    static readonly className = TFBRIDGE_SEPARABLE_CONV2D;

    override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
      const self = this as unknown as ConvFields & { depthwiseKernel: Variable; pointwiseKernel: Variable };
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const depthwise = self.depthwiseKernel.read();
        const spread = withSpaceToBatch(tf, x, depthwise.shape, self.dilationRate, self.padding, (input) => tf.depthwiseConv2d(input as never, depthwise as never, 1, "valid") as Tensor);
        const y = tf.conv2d(spread as never, self.pointwiseKernel.read() as never, 1, "valid") as Tensor;
        return finish(self, y, tf);
      });
    }
  };
}


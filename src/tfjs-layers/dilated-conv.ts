import { TFBRIDGE_CONV2D, TFBRIDGE_SEPARABLE_CONV2D } from "./names.js";
import { withSpaceToBatch } from "./space-to-batch.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type Conv2D = ReturnType<TfModule["layers"]["conv2d"]>;
type SeparableConv2D = ReturnType<TfModule["layers"]["separableConv2d"]>;
type Variable = { read(): Tensor };
/** What our convolution classes read of TF.js's: the fields its Conv classes keep. */
export interface ConvFields {
  bias: Variable | null;
  useBias: boolean;
  padding: string;
  dilationRate: number[];
  activation: { apply(x: Tensor): Tensor } | null;
}

/** The registered {@link TFBRIDGE_CONV2D} class. */
export interface TfbridgeConv2DClass {
  new (args: Parameters<TfModule["layers"]["conv2d"]>[0]): Conv2D;
  readonly className: string;
}
/** The registered {@link TFBRIDGE_SEPARABLE_CONV2D} class. */
export interface TfbridgeSeparableConv2DClass {
  new (args: Parameters<TfModule["layers"]["separableConv2d"]>[0]): SeparableConv2D;
  readonly className: string;
}

export function registered<T>(tf: TfModule, name: string): T {
  return tf.serialization.SerializationMap.getMap().classNameMap[name]![0] as unknown as T;
}

/** Bias add and activation after the convolution, as Keras's BaseConv.call. */
export function finish(self: ConvFields, y: Tensor, tf: TfModule): Tensor {
  const biased = self.useBias && self.bias ? tf.add(y, self.bias.read()) : y;
  return self.activation ? self.activation.apply(biased) : biased;
}

/**
 * Keras 3's Conv2D with a dilation rate above 1 as a TF.js class: TF.js's own (same weights and
 * config) computing the graph Keras's `tf.nn.convolution` builds for it — SpaceToBatchND, the
 * undilated Conv2D, BatchToSpaceND (see {@link withSpaceToBatch}) — then bias add and activation.
 * TF.js's class hands the dilation to the Conv2D op instead: another graph than the Session's.
 */
export function defineDilatedConv2D(tf: TfModule): TfbridgeConv2DClass {
  const Base = registered<new (args: object) => Conv2D>(tf, "Conv2D");
  return class TfbridgeConv2D extends Base {
    static readonly className = TFBRIDGE_CONV2D;

    override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
      const self = this as unknown as ConvFields & { kernel: Variable };
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const kernel = self.kernel.read();
        const y = withSpaceToBatch(tf, x, kernel.shape, self.dilationRate, self.padding, (input) => tf.conv2d(input as never, kernel as never, 1, "valid") as Tensor);
        return finish(self, y, tf);
      });
    }
  };
}

/**
 * Keras 3's SeparableConv2D with a dilation rate above 1 as a TF.js class: TF.js's own (same weights:
 * depthwise kernel, pointwise kernel, bias) computing what Keras's `tf.nn.separable_conv2d` builds —
 * the undilated depthwise convolution inside {@link withSpaceToBatch}, then the 1×1 pointwise Conv2D
 * — then bias add and activation. TF.js's `separableConv2d` hands the dilation to the depthwise op,
 * which TF's CPU kernel refuses without oneDNN.
 */
export function defineDilatedSeparableConv2D(tf: TfModule): TfbridgeSeparableConv2DClass {
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


import { type ConvFields, finish } from "./conv-fields.js";
import { TFBRIDGE_CONV1D } from "./names.js";
import { dilated, withSpaceToBatch } from "./space-to-batch.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type Conv1D = ReturnType<TfModule["layers"]["conv1d"]>;
/** TF.js's own Conv1D arguments, which TfbridgeConv1D extends. */
export type ConvLayerArgs = Parameters<TfModule["layers"]["conv1d"]>[0];
type Shape = (number | null)[];

/** TF.js's Conv1D arguments, with `padding` also `"causal"`. */
export type TfbridgeConv1DArgs = ConvLayerArgs;

/** The registered {@link TFBRIDGE_CONV1D} class. */
export interface TfbridgeConv1DClass {
  new (args: TfbridgeConv1DArgs): Conv1D & { readonly causal: boolean };
  readonly className: string;
}

/**
 * Keras 3's Conv1D as a TF.js class: TF.js's own Conv1D (same weights: kernel `[k, in, filters]`,
 * bias `[filters]`; same config keys) that also takes `padding: "causal"`, which TF.js refuses.
 * Causal is what keras/src/layers/convolutional/conv1d.py does: zero-pad the time axis on the left by
 * `dilation_rate * (kernel_size - 1)`, then a valid convolution — here TF.js's own valid Conv1D, the
 * same ops (conv1d, bias add, activation) it runs for `padding: "valid"`. A dilation rate above 1 is
 * computed as Keras's `tf.nn.convolution` computes it, through space-to-batch ({@link withSpaceToBatch}):
 * TF.js hands the dilation to Conv2D itself, whose sums differ in the last bit on some CPUs (1 ULP
 * measured on an AVX2 EPYC, none on an AVX-512 one).
 */
export function defineConv1D(tf: TfModule): TfbridgeConv1DClass {
  // TF.js exports its Conv1D class only through the registry (tf.layers.conv1d makes instances).
  const Conv1DBase = tf.serialization.SerializationMap.getMap().classNameMap["Conv1D"]![0] as unknown as new (
    args: ConvLayerArgs,
  ) => Conv1D;

  return class TfbridgeConv1D extends Conv1DBase {
    static readonly className = TFBRIDGE_CONV1D;
    readonly causal: boolean;

    constructor(args: TfbridgeConv1DArgs) {
      const causal = args.padding === "causal";
      if (causal && args.dataFormat === "channelsFirst") {
        throw new Error(`${TFBRIDGE_CONV1D}: causal padding is implemented for channelsLast only`);
      }
      super(causal ? { ...args, padding: "valid" } : args);
      this.causal = causal;
    }

    /** The left padding of the time axis: Keras's `_compute_causal_padding`. */
    private get leftPad(): number {
      return this.causal ? this.dilationRate[0]! * (this.kernelSize[0]! - 1) : 0;
    }

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
      const self = this as unknown as ConvFields & { kernel: { read(): Tensor } };
      if (!this.causal && !dilated(self.dilationRate)) return super.call(inputs, kwargs);
      return tf.tidy(() => {
        const given = Array.isArray(inputs) ? inputs[0]! : inputs;
        const x = this.causal ? tf.pad(given, [[0, 0], [this.leftPad, 0], [0, 0]]) : given;
        if (!dilated(self.dilationRate)) return super.call(x, kwargs);
        const kernel = self.kernel.read();
        const convolve = (input: Tensor) => tf.conv1d(input as never, kernel as never, 1, "valid") as Tensor;
        return finish(self, withSpaceToBatch(tf, x, kernel.shape, self.dilationRate, this.causal ? "valid" : self.padding, convolve), tf);
      });
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      const padded = shape[1] == null ? shape : [shape[0]!, shape[1] + this.leftPad, ...shape.slice(2)];
      return super.computeOutputShape(padded as never) as Shape;
    }

    override getConfig() {
      const config = super.getConfig();
      return this.causal ? { ...config, padding: "causal" } : config;
    }
  };
}

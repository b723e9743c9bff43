import { TFBRIDGE_CONV1D } from "./names.js";
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
 * same ops (conv1d, bias add, activation) it runs for `padding: "valid"`.
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
      if (!this.causal) return super.call(inputs, kwargs);
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        return super.call(tf.pad(x, [[0, 0], [this.leftPad, 0], [0, 0]]), kwargs);
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

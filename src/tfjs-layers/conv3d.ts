import { type ConvFields, finish, registered } from "./conv-fields.js";
import { TFBRIDGE_CONV3D } from "./names.js";
import { dilated, withSpaceToBatch } from "./space-to-batch.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type Conv3D = ReturnType<TfModule["layers"]["conv3d"]>;
type Variable = { read(): Tensor };

/** The registered {@link TFBRIDGE_CONV3D} class. */
export interface TfbridgeConv3DClass {
  new (args: Parameters<TfModule["layers"]["conv3d"]>[0]): Conv3D;
  readonly className: string;
}

/**
 * Keras 3's Conv3D where TF.js's own computes another model, as a TF.js class (same weights and config):
 *
 * - a dilation rate above 1: Keras's `tf.nn.convolution` runs SpaceToBatchND over the three spatial
 *   axes, the undilated Conv3D, BatchToSpaceND ({@link withSpaceToBatch}); TF.js hands the dilation to
 *   the Conv3D op, which TF's CPU kernel refuses ("CPU Dilation depth must be 1").
 * - `same` padding with a kernel shorter than its stride: TensorFlow pads `max(0, (out − 1)·stride +
 *   kernel − in)` per axis; TF.js's 3-D padding (conv_util get3DPadAndOutInfo, unlike its 2-D one)
 *   leaves out the `max(0, …)`, so its JS backends pad by −1 and shift the windows (measured: 0.63 off).
 *   Here the input is padded as TensorFlow pads it and convolved `valid`.
 *
 * Then bias add and activation, as Keras's BaseConv.call.
 */
export function defineConv3D(tf: TfModule): TfbridgeConv3DClass {
  const Base = registered<new (args: object) => Conv3D>(tf, "Conv3D");
  return class TfbridgeConv3D extends Base {
    static readonly className = TFBRIDGE_CONV3D;

    override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
      const self = this as unknown as ConvFields & { kernel: Variable; strides: number[] };
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const kernel = self.kernel.read();
        const conv = (input: Tensor, strides: number[]) => tf.conv3d(input as never, kernel as never, strides as [number, number, number], "valid") as Tensor;
        if (dilated(self.dilationRate)) return finish(self, withSpaceToBatch(tf, x, kernel.shape, self.dilationRate, self.padding, (input) => conv(input, [1, 1, 1])), tf);
        if (self.padding !== "same") return finish(self, conv(x, self.strides), tf);
        const pads = self.strides.map((s, i): [number, number] => {
          const size = x.shape[i + 1]!;
          const along = Math.max(0, (Math.ceil(size / s) - 1) * s + kernel.shape[i]! - size);
          return [Math.floor(along / 2), along - Math.floor(along / 2)];
        });
        return finish(self, conv(tf.pad(x, [[0, 0], ...pads, [0, 0]]), self.strides), tf);
      });
    }
  };
}

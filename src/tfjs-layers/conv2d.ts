import { type ConvFields, finish, registered } from "./conv-fields.js";
import { TFBRIDGE_CONV2D } from "./names.js";
import { dilated, withSpaceToBatch } from "./space-to-batch.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type Conv2D = ReturnType<TfModule["layers"]["conv2d"]>;
type Shape = (number | null)[];
type Variable = { read(): Tensor };

/** TF.js's Conv2D arguments, plus Keras 3's `groups`. */
export type TfbridgeConv2DArgs = Parameters<TfModule["layers"]["conv2d"]>[0] & { groups?: number };

/** The registered {@link TFBRIDGE_CONV2D} class. */
export interface TfbridgeConv2DClass {
  new (args: TfbridgeConv2DArgs): Conv2D & { readonly groups: number };
  readonly className: string;
}

/**
 * Keras 3's Conv2D where TF.js's own computes another model, as a TF.js class (same config, and the same
 * weights: kernel `[kh, kw, channels / groups, filters]`, bias `[filters]`):
 *
 * - a dilation rate above 1: the graph Keras's `tf.nn.convolution` builds for it — SpaceToBatchND, the
 *   undilated Conv2D, BatchToSpaceND (see {@link withSpaceToBatch}). TF.js hands the dilation to the
 *   Conv2D op instead: another graph than the Session's.
 * - `groups` above 1 (ConvNeXt's depthwise convolutions are Conv2Ds with one group per channel): TF.js
 *   has no groups and would size the kernel for every channel. Keras 3 compiles a grouped convolution
 *   with XLA (keras/src/backend/tensorflow/nn.py `conv`: TF's CPU Conv2D refuses groups), and XLA's
 *   CPU convolution is Eigen's, per group; so this convolves each group's channels with its slice of
 *   the kernel and concatenates them. With oneDNN off in both runtimes that is bit for bit the
 *   Session's; with oneDNN on, tfjs-node's Conv2D is oneDNN's and the Session's XLA one is not.
 *
 * Then bias add and activation, as Keras's BaseConv.call.
 */
export function defineConv2D(tf: TfModule): TfbridgeConv2DClass {
  const Base = registered<new (args: object) => Conv2D>(tf, "Conv2D");
  return class TfbridgeConv2D extends Base {
    static readonly className = TFBRIDGE_CONV2D;
    readonly groups: number;

    constructor(args: TfbridgeConv2DArgs) {
      super(args);
      this.groups = args.groups ?? 1;
      const filters = (args as { filters: number }).filters;
      if (!Number.isInteger(this.groups) || this.groups < 1 || filters % this.groups !== 0) {
        throw new Error(`Conv2D ${args.name ?? ""}: groups must be a positive integer dividing filters (${filters}); got ${this.groups}`);
      }
    }

    override build(inputShape: Shape | Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      const channels = shape[3];
      if (channels == null || channels % this.groups !== 0) {
        throw new Error(`Conv2D ${this.name}: its input's ${channels ?? "unknown"} channels do not split into ${this.groups} groups`);
      }
      // TF.js sizes the kernel by the input's channels; each group's kernel sees channels / groups of them.
      super.build([...shape.slice(0, 3), channels / this.groups]);
      (this as unknown as { inputSpec: object[] }).inputSpec = [{ ndim: 4, axes: { 3: channels } }];
    }

    override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
      const self = this as unknown as ConvFields & { kernel: Variable; strides: [number, number] };
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const kernel = self.kernel.read();
        const kernels = this.groups === 1 ? [kernel] : tf.split(kernel, this.groups, 3);
        const convolve = (input: Tensor, strides: number | [number, number], padding: "valid" | "same"): Tensor => {
          if (this.groups === 1) return tf.conv2d(input as never, kernel as never, strides, padding) as Tensor;
          const parts = tf.split(input, this.groups, 3).map((part, g) => tf.conv2d(part as never, kernels[g] as never, strides, padding) as Tensor);
          return tf.concat(parts, 3);
        };
        const y = dilated(self.dilationRate)
          ? withSpaceToBatch(tf, x, kernel.shape, self.dilationRate, self.padding, (input) => convolve(input, 1, "valid"))
          : convolve(x, self.strides, self.padding as "valid" | "same");
        return finish(self, y, tf);
      });
    }

    override getConfig() {
      return { ...super.getConfig(), groups: this.groups };
    }
  };
}

import { TFBRIDGE_UP_SAMPLING_2D } from "./names.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type UpSampling2D = ReturnType<TfModule["layers"]["upSampling2d"]>;

/** The registered {@link TFBRIDGE_UP_SAMPLING_2D} class. */
export interface TfbridgeUpSampling2DClass {
  new (args: Parameters<TfModule["layers"]["upSampling2d"]>[0]): UpSampling2D;
  readonly className: string;
}

/**
 * Keras 3's UpSampling2D with `interpolation: "bilinear"` as a TF.js class: TF.js's own (same config,
 * no weights) resizing with half-pixel centres. Keras 3 resizes with `ops.image.resize`, on the TF
 * backend `tf.image.resize` (TF 2's ResizeBilinear with `half_pixel_centers=True`); TF.js's class
 * calls `resizeBilinear` with neither align-corners nor half-pixel centres, which samples other
 * points (measured: up to 0.6 off on inputs of magnitude 1). `"nearest"` needs no class of ours:
 * Keras repeats each row and column, which TF.js's nearest-neighbour resize by an integer factor does too.
 */
export function defineUpSampling2D(tf: TfModule): TfbridgeUpSampling2DClass {
  const Base = tf.serialization.SerializationMap.getMap().classNameMap["UpSampling2D"]![0] as unknown as new (args: object) => UpSampling2D;
  return class TfbridgeUpSampling2D extends Base {
    static readonly className = TFBRIDGE_UP_SAMPLING_2D;

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
      const self = this as unknown as { size: [number, number]; interpolation: string };
      if (self.interpolation !== "bilinear") return super.call(inputs, kwargs) as Tensor;
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const size: [number, number] = [x.shape[1]! * self.size[0], x.shape[2]! * self.size[1]];
        return tf.image.resizeBilinear(x as Parameters<typeof tf.image.resizeBilinear>[0], size, false, true) as Tensor;
      });
    }
  };
}

import { TFBRIDGE_GLOBAL_AVERAGE_POOLING_1D } from "./names.js";
import { ignoresMask, layerMask } from "./stock-mask.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type GlobalAveragePooling1D = ReturnType<TfModule["layers"]["globalAveragePooling1d"]>;

export interface TfbridgeGlobalAveragePooling1DClass {
  new (args?: Parameters<TfModule["layers"]["globalAveragePooling1d"]>[0]): GlobalAveragePooling1D;
  readonly className: string;
}

/**
 * Keras 3's GlobalAveragePooling1D as a TF.js class. Under a mask Keras averages only the unmasked
 * steps (keras/src/layers/pooling/global_average_pooling1d.py: `where(mask, x, 0)` summed over time,
 * divided by the count of unmasked steps); TF.js's own class ignores the mask and averages every
 * step, padding included. Without a mask both take the plain mean over time.
 */
export function defineGlobalAveragePooling1D(tf: TfModule): TfbridgeGlobalAveragePooling1DClass {
  const Base = tf.serialization.SerializationMap.getMap().classNameMap["GlobalAveragePooling1D"]![0] as unknown as new (args?: object) => GlobalAveragePooling1D;
  return class TfbridgeGlobalAveragePooling1D extends Base {
    static readonly className = TFBRIDGE_GLOBAL_AVERAGE_POOLING_1D;

    readonly ignoreMask: boolean;

    constructor(args?: object) {
      super(args);
      this.supportsMasking = true;
      this.ignoreMask = ignoresMask(args);
    }

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
      const mask = layerMask(kwargs, this.ignoreMask);
      if (!mask) return super.call(inputs, kwargs);
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const expanded = tf.cast(tf.expandDims(mask, 2), "bool");
        const kept = tf.where(tf.broadcastTo(expanded, x.shape), x, tf.zerosLike(x));
        return tf.div(tf.sum(kept, 1), tf.sum(tf.cast(expanded, x.dtype), 1));
      });
    }

    override getConfig() {
      return { ...super.getConfig(), ignoreMask: this.ignoreMask };
    }

    /** The time axis is averaged away, and the mask with it. */
    override computeMask(): Tensor {
      return null as unknown as Tensor; // TF.js's signature has no null, but its engine treats null as "no mask"
    }
  };
}

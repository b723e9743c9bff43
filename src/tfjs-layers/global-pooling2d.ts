import { TFBRIDGE_GLOBAL_AVERAGE_POOLING_2D, TFBRIDGE_GLOBAL_MAX_POOLING_2D } from "./names.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type GlobalPooling2D = ReturnType<TfModule["layers"]["globalAveragePooling2d"]>;
type Shape = (number | null)[];

/** TF.js's global 2-D pooling arguments, plus Keras 3's `keepdims`. */
export type TfbridgeGlobalPooling2DArgs = Parameters<TfModule["layers"]["globalAveragePooling2d"]>[0] & { keepdims?: boolean };

/** A registered global 2-D pooling class ({@link TFBRIDGE_GLOBAL_AVERAGE_POOLING_2D}, {@link TFBRIDGE_GLOBAL_MAX_POOLING_2D}). */
export interface TfbridgeGlobalPooling2DClass {
  new (args?: TfbridgeGlobalPooling2DArgs): GlobalPooling2D & { readonly keepdims: boolean };
  readonly className: string;
}

/**
 * Keras 3's GlobalAveragePooling2D / GlobalMaxPooling2D as TF.js classes: TF.js's own, which reduce
 * height and width with the same op Keras 3 calls (`ops.mean` / `ops.max` over axes [1, 2]: TF's Mean /
 * Max), but have no `keepdims`. With `keepdims: true` Keras keeps the reduced axes as size 1,
 * `[batch, 1, 1, channels]`, which MobileNet-style heads feed into a 1×1 Conv2D; TF.js's class would
 * drop them and build a different model. These reduce with `keepDims` as asked.
 */
export function defineGlobalPooling2D(tf: TfModule): { TfbridgeGlobalAveragePooling2D: TfbridgeGlobalPooling2DClass; TfbridgeGlobalMaxPooling2D: TfbridgeGlobalPooling2DClass } {
  const define = (base: string, className: string, reduce: (x: Tensor, keepdims: boolean) => Tensor): TfbridgeGlobalPooling2DClass => {
    const Base = tf.serialization.SerializationMap.getMap().classNameMap[base]![0] as unknown as new (args?: object) => GlobalPooling2D;
    return class extends Base {
      static readonly className = className;
      readonly keepdims: boolean;

      constructor(args: TfbridgeGlobalPooling2DArgs = {}) {
        super(args);
        this.keepdims = args.keepdims ?? false;
      }

      override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
        return tf.tidy(() => reduce(Array.isArray(inputs) ? inputs[0]! : inputs, this.keepdims));
      }

      override computeOutputShape(inputShape: Shape | Shape[]): Shape {
        const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
        return this.keepdims ? [shape[0]!, 1, 1, shape[3]!] : [shape[0]!, shape[3]!];
      }

      override getConfig() {
        return { ...super.getConfig(), keepdims: this.keepdims };
      }
    };
  };
  return {
    TfbridgeGlobalAveragePooling2D: define("GlobalAveragePooling2D", TFBRIDGE_GLOBAL_AVERAGE_POOLING_2D, (x, keepdims) => tf.mean(x, [1, 2], keepdims)),
    TfbridgeGlobalMaxPooling2D: define("GlobalMaxPooling2D", TFBRIDGE_GLOBAL_MAX_POOLING_2D, (x, keepdims) => tf.max(x, [1, 2], keepdims)),
  };
}

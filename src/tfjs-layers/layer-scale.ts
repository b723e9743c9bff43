import { TFBRIDGE_LAYER_SCALE } from "./names.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type Layer = InstanceType<TfModule["layers"]["Layer"]>;
type Shape = (number | null)[];

/** The arguments of a {@link TFBRIDGE_LAYER_SCALE} layer, as Keras's config names them. */
export interface TfbridgeLayerScaleArgs {
  name?: string;
  /** The length of `gamma`: the channels of the input's last axis. */
  projectionDim: number;
  /** `gamma`'s initial value (the weights replace it). */
  initValues?: number;
}

/** The registered {@link TFBRIDGE_LAYER_SCALE} class. */
export interface TfbridgeLayerScaleClass {
  new (args: TfbridgeLayerScaleArgs): Layer;
  readonly className: string;
}

/**
 * ConvNeXt's LayerScale (keras/src/applications/convnext.py, a layer of Keras's own that TF.js lacks):
 * one weight `gamma` of `projection_dim` values, and `x * gamma` over the last axis.
 */
export function defineLayerScale(tf: TfModule): TfbridgeLayerScaleClass {
  return class TfbridgeLayerScale extends tf.layers.Layer {
    static readonly className = TFBRIDGE_LAYER_SCALE;
    readonly projectionDim: number;
    readonly initValues: number;
    private gamma: ReturnType<Layer["addWeight"]> | null = null;

    constructor(args: TfbridgeLayerScaleArgs) {
      super({ name: args.name });
      this.projectionDim = args.projectionDim;
      this.initValues = args.initValues ?? 0;
    }

    override build(): void {
      this.gamma = this.addWeight("gamma", [this.projectionDim], "float32", tf.initializers.constant({ value: this.initValues }));
      this.built = true;
    }

    override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
      return tf.tidy(() => tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, this.gamma!.read()));
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      return inputShape as Shape;
    }

    override getConfig() {
      return { ...super.getConfig(), projectionDim: this.projectionDim, initValues: this.initValues };
    }
  };
}

import { type KerasLoop, withKerasLoop } from "./keras-rnn.js";
import { TFBRIDGE_GRU, TFBRIDGE_GRU_CELL } from "./names.js";
import { type CellFields, gruStep } from "./recurrent-steps.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type GRUCellLayerArgs = import("@tensorflow/tfjs").GRUCellLayerArgs;
type GRULayerArgs = import("@tensorflow/tfjs").GRULayerArgs;
type GRUCell = ReturnType<TfModule["layers"]["gruCell"]>;
type RNN = InstanceType<TfModule["layers"]["RNN"]>;

/** TF.js's GRUCell arguments plus Keras's `reset_after` (camel-cased by TF.js from a JSON config). */
export interface TfbridgeGRUCellArgs extends GRUCellLayerArgs {
  /** Default true, as in Keras 3. */
  resetAfter?: boolean;
}

/** TF.js's GRU arguments plus Keras's `reset_after` and `zero_output_for_mask`. */
export interface TfbridgeGRUArgs extends GRULayerArgs {
  /** Default true, as in Keras 3. */
  resetAfter?: boolean;
  /** Keras's RNN argument; its Bidirectional sets it to `return_sequences`. Default false. */
  zeroOutputForMask?: boolean;
}

/** The registered {@link TFBRIDGE_GRU_CELL} class. */
export interface TfbridgeGRUCellClass {
  new (args: TfbridgeGRUCellArgs): GRUCell & { readonly resetAfter: boolean };
  readonly className: string;
}
/** The registered {@link TFBRIDGE_GRU} class. */
export interface TfbridgeGRUClass {
  new (args: TfbridgeGRUArgs): RNN & KerasLoop;
  readonly className: string;
}

/**
 * Keras 3's GRU as TF.js classes. Defaults are Keras 3's (recurrentActivation sigmoid,
 * kernelInitializer glorotUniform, resetAfter true), since these classes stand for keras.layers.GRU.
 * Weights, in Keras's `layer.weights` order: kernel `[in, 3u]`, recurrent_kernel `[u, 3u]`, bias
 * `[2, 3u]` with `resetAfter` (row 0 input bias, row 1 recurrent bias) or `[3u]` without; gates z, r, h.
 */
export function defineGru(tf: TfModule): { TfbridgeGRUCell: TfbridgeGRUCellClass; TfbridgeGRU: TfbridgeGRUClass } {
  // TF.js exports its GRUCell class only through the registry (tf.layers.gruCell makes instances).
  const GRUCellBase = tf.serialization.SerializationMap.getMap().classNameMap["GRUCell"]![0] as unknown as new (
    args: GRUCellLayerArgs,
  ) => GRUCell;

  class TfbridgeGRUCell extends GRUCellBase {
    static readonly className = TFBRIDGE_GRU_CELL;
    readonly resetAfter: boolean;

    constructor(args: TfbridgeGRUCellArgs) {
      // TF.js's GRUCell throws on resetAfter; it only parses the shared arguments here.
      super({
        recurrentActivation: "sigmoid",
        kernelInitializer: "glorotUniform",
        ...args,
        resetAfter: false,
      } as GRUCellLayerArgs);
      this.resetAfter = args.resetAfter ?? true;
    }

    override build(inputShape: Parameters<GRUCell["build"]>[0]): void {
      if (!this.resetAfter) return super.build(inputShape);
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
      const inputDim = shape[shape.length - 1]!;
      const u = this.units;
      // The same weight names and order as Keras's GRUCell.build.
      this.kernel = this.addWeight("kernel", [inputDim, 3 * u], undefined, this.kernelInitializer, this.kernelRegularizer, true, this.kernelConstraint);
      this.recurrentKernel = this.addWeight("recurrent_kernel", [u, 3 * u], undefined, this.recurrentInitializer, this.recurrentRegularizer, true, this.recurrentConstraint);
      if (this.useBias) {
        this.bias = this.addWeight("bias", [2, 3 * u], undefined, this.biasInitializer, this.biasRegularizer, true, this.biasConstraint);
      }
      this.built = true;
    }

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
      if (!this.resetAfter) return super.call(inputs, kwargs);
      if (kwargs["training"] === true && (this.dropout > 0 || this.recurrentDropout > 0)) {
        throw new Error(`${TFBRIDGE_GRU_CELL} computes inference only: training with dropout is not implemented`);
      }
      return tf.tidy(() => {
        const [x, hTm1] = inputs as Tensor[];
        const [h] = gruStep(tf, this as unknown as CellFields, true)(x!, [hTm1!]);
        return [h, h];
      });
    }

    override getConfig() {
      return { ...super.getConfig(), resetAfter: this.resetAfter };
    }
  }

  class TfbridgeGRU extends withKerasLoop(tf, tf.layers.RNN, TFBRIDGE_GRU, (cell) => gruStep(tf, cell, (cell as unknown as { resetAfter: boolean }).resetAfter)) {
    static override readonly className = TFBRIDGE_GRU;

    constructor(args: TfbridgeGRUArgs) {
      super({ ...args, cell: new TfbridgeGRUCell(args) });
    }
  }

  return { TfbridgeGRUCell, TfbridgeGRU };
}

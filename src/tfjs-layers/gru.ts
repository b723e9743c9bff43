import { kerasRecurrence } from "./recurrence.js";
import { TFBRIDGE_GRU, TFBRIDGE_GRU_CELL } from "./names.js";
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

export interface TfbridgeGRUCellClass {
  new (args: TfbridgeGRUCellArgs): GRUCell & { readonly resetAfter: boolean };
  readonly className: string;
}
export interface TfbridgeGRUClass {
  new (args: TfbridgeGRUArgs): RNN & { readonly zeroOutputForMask: boolean };
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
        // keras/src/layers/rnn/gru.py GRUCell.call, implementation 2, reset_after: the same ops in
        // the same order, so that TensorFlow's kernels see the same operands.
        let matrixX = tf.matMul(x! as never, this.kernel.read() as never) as Tensor;
        let matrixInner = tf.matMul(hTm1! as never, this.recurrentKernel.read() as never) as Tensor;
        if (this.useBias) {
          const [inputBias, recurrentBias] = tf.split(this.bias.read(), 2, 0).map((b) => tf.squeeze(b, [0]));
          matrixX = tf.add(matrixX, inputBias!);
          matrixInner = tf.add(matrixInner, recurrentBias!);
        }
        const [xZ, xR, xH] = tf.split(matrixX, 3, -1);
        const [recurrentZ, recurrentR, recurrentH] = tf.split(matrixInner, 3, -1);
        const z = this.recurrentActivation.apply(tf.add(xZ!, recurrentZ!));
        const r = this.recurrentActivation.apply(tf.add(xR!, recurrentR!));
        const hh = this.activation.apply(tf.add(xH!, tf.mul(r, recurrentH!)));
        // h = z * h_tm1 + (1 - z) * hh
        const h = tf.add(tf.mul(z, hTm1!), tf.mul(tf.sub(tf.scalar(1, "float32"), z), hh));
        return [h, h];
      });
    }

    override getConfig() {
      return { ...super.getConfig(), resetAfter: this.resetAfter };
    }
  }

  class TfbridgeGRU extends tf.layers.RNN {
    static override readonly className = TFBRIDGE_GRU;
    readonly zeroOutputForMask: boolean;

    constructor(args: TfbridgeGRUArgs) {
      super({ ...args, cell: new TfbridgeGRUCell(args) });
      this.zeroOutputForMask = args.zeroOutputForMask ?? false;
    }

    // RNN.apply stores the initial states it finds in the inputs into `kwargs.initialState`. A model's
    // executor passes one kwargs object (holding the mask) to every layer it runs and on to the next
    // batch, so the next apply would see both inputs and initialState and throw: give it a copy.
    override apply(inputs: Parameters<RNN["apply"]>[0], kwargs?: Kwargs): ReturnType<RNN["apply"]> {
      return super.apply(inputs, kwargs == null ? kwargs : { ...kwargs });
    }

    // RNN.call with Keras's time loop (see kerasRecurrence: the two differ on masked steps).
    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
      if (this.stateful) throw new Error(`${TFBRIDGE_GRU} does not implement stateful=true`);
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const given = kwargs["initialState"] as Tensor[] | null | undefined;
        const initialState = given ?? this.getInitialState(x);
        // Keras 3's Layer.__call__ fills in an upstream mask only for a call with one tensor argument:
        // with initial states, keras.layers.GRU runs unmasked (layers/layer.py, "Populate mask
        // argument(s)"), while TF.js's executor hands every layer its first input's mask.
        const mask = given == null ? ((kwargs["mask"] as Tensor | null | undefined) ?? null) : null;
        const cellKwargs = { training: kwargs["training"] };
        const { lastOutput, outputs, states } = kerasRecurrence(
          tf,
          (input, s) => {
            const [output, ...next] = this.cell.call([input, ...s], cellKwargs) as Tensor[];
            return [output!, next];
          },
          x,
          initialState,
          mask,
          { goBackwards: this.goBackwards, returnSequences: this.returnSequences, zeroOutputForMask: this.zeroOutputForMask },
        );
        const output = this.returnSequences ? outputs! : lastOutput;
        return this.returnState ? [output, ...states] : output;
      });
    }

    override getConfig() {
      return { ...super.getConfig(), zeroOutputForMask: this.zeroOutputForMask };
    }

    // RNN.fromConfig would look for a `cell` entry; like TF.js's GRU, this class builds its own cell.
    static override fromConfig<T>(cls: new (args: TfbridgeGRUArgs) => T, config: Record<string, unknown>): T {
      return new cls(config as unknown as TfbridgeGRUArgs);
    }
  }

  return { TfbridgeGRUCell, TfbridgeGRU };
}

import { type StepFunction, kerasRecurrence } from "./recurrence.js";
import type { CellFields } from "./recurrent-steps.js";
import { ignoresMask, layerMask } from "./stock-mask.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type RNN = InstanceType<TfModule["layers"]["RNN"]>;
// A mixin's base must take `any[]`: TypeScript's rule for classes that extend a type parameter.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type RNNConstructor = new (...args: any[]) => RNN;

/** What Keras's time loop (`withKerasLoop`) adds to a TF.js RNN class. */
export interface KerasLoop {
  /** Keras's `zero_output_for_mask`: masked steps output zeros. Keras's Bidirectional sets it to `return_sequences`. */
  readonly zeroOutputForMask: boolean;
  /** Keras runs this layer unmasked whatever mask TF.js's executor passes (see stock-mask.ts). */
  readonly ignoreMask: boolean;
}

/**
 * A TF.js RNN class (TF.js's RNN, LSTM, SimpleRNN…) whose time loop is Keras's: `call` runs
 * {@link kerasRecurrence} with the layer's cell instead of TF.js's `rnn()` (at inference, the cell's
 * step from `stepOf`: Keras's op order, see recurrent-steps.ts), and the config gains
 * `zeroOutputForMask`. Everything else — building, shapes, masks out, weights, Bidirectional's
 * cloning through getConfig/fromConfig — stays TF.js's.
 *
 * One more Keras rule is kept: Keras 3's Layer.__call__ passes an upstream mask on only to a call
 * with a single tensor argument (keras/src/layers/layer.py, "Populate mask argument(s)"), so a Keras
 * RNN given initial states runs unmasked inside a model; TF.js's executor hands every layer its
 * first input's mask. Here a mask is ignored whenever initial states are given. (A direct TF.js call
 * `apply(x, {initialState, mask})` is thereby unmasked too; Keras would honour an explicit mask.)
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function withKerasLoop<B extends RNNConstructor>(
  tf: TfModule,
  Base: B,
  className: string,
  stepOf: (cell: CellFields) => StepFunction,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): B & (new (...args: any[]) => KerasLoop) {
  return class KerasLoopRNN extends Base implements KerasLoop {
    readonly zeroOutputForMask: boolean;
    readonly ignoreMask: boolean;

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    constructor(...args: any[]) {
      super(...args);
      this.zeroOutputForMask = (args[0] as { zeroOutputForMask?: boolean }).zeroOutputForMask ?? false;
      this.ignoreMask = ignoresMask(args[0]);
    }

    // RNN.apply stores the initial states it finds among the inputs in `kwargs.initialState`. A model's
    // executor passes one kwargs object (holding the mask) to every layer it runs and on to the next
    // batch, so the next apply would see both inputs and initialState and throw: give it a copy.
    override apply(inputs: Parameters<RNN["apply"]>[0], kwargs?: Kwargs): ReturnType<RNN["apply"]> {
      return super.apply(inputs, kwargs == null ? kwargs : { ...kwargs });
    }

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
      if (this.stateful) throw new Error(`${className} does not implement stateful=true`);
      // TF.js's own LSTM/GRU/SimpleRNN drop the cell's cached dropout masks before each call.
      const cell = this.cell as unknown as Record<string, unknown>;
      for (const key of ["dropoutMask", "recurrentDropoutMask"]) {
        if (cell[key] != null) {
          tf.dispose(cell[key] as Tensor | Tensor[]);
          cell[key] = null;
        }
      }
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const given = kwargs["initialState"] as Tensor[] | null | undefined;
        const mask = given == null ? layerMask(kwargs, this.ignoreMask) : null;
        let step: StepFunction;
        if (kwargs["training"] === true) {
          // Training (dropout masks) is TF.js's own cell's business.
          const cellKwargs = { training: true };
          step = (input, s) => {
            const [output, ...next] = this.cell.call([input, ...s], cellKwargs) as Tensor[];
            return [output!, next];
          };
        } else {
          // Each step's input is projected on its own, as in the Session. One [batch·time, features]
          // product for all steps saves a matmul per step (tfjs-node: 62 → 47 ms on the bench LSTM),
          // but TensorFlow may sum it in another order (Eigen's batch-1 product does: 4,487 of 6,400
          // elements moved with oneDNN off), and on WASM it measured slower.
          step = stepOf(this.cell as unknown as CellFields);
        }
        const { lastOutput, outputs, states } = kerasRecurrence(
          tf,
          step,
          x,
          given ?? this.getInitialState(x),
          mask,
          { goBackwards: this.goBackwards, returnSequences: this.returnSequences, zeroOutputForMask: this.zeroOutputForMask },
        );
        const output = this.returnSequences ? outputs! : lastOutput;
        return this.returnState ? [output, ...states] : output;
      });
    }

    override getConfig() {
      return { ...super.getConfig(), zeroOutputForMask: this.zeroOutputForMask, ignoreMask: this.ignoreMask };
    }

    // RNN.fromConfig would look for a `cell` entry; these classes build their own cell, as TF.js's
    // GRU/LSTM/SimpleRNN do.
    static fromConfig<T>(cls: new (args: unknown) => T, config: Record<string, unknown>): T {
      return new cls(config);
    }
  };
}

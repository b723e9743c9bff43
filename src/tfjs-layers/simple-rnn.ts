import { type KerasLoop, withKerasLoop } from "./keras-rnn.js";
import { TFBRIDGE_SIMPLE_RNN } from "./names.js";
import { simpleRnnStep } from "./recurrent-steps.js";
import type { TfModule } from "./tfjs-types.js";

type SimpleRNNLayerArgs = import("@tensorflow/tfjs").SimpleRNNLayerArgs;
type SimpleRNN = ReturnType<TfModule["layers"]["simpleRNN"]>;

/** TF.js's SimpleRNN arguments plus Keras's `zero_output_for_mask`. */
export interface TfbridgeSimpleRNNArgs extends SimpleRNNLayerArgs {
  zeroOutputForMask?: boolean;
}

/** The registered {@link TFBRIDGE_SIMPLE_RNN} class. */
export interface TfbridgeSimpleRNNClass {
  new (args: TfbridgeSimpleRNNArgs): SimpleRNN & KerasLoop;
  readonly className: string;
}

/**
 * Keras 3's SimpleRNN: TF.js's own SimpleRNN and its cell in Keras's time loop, for Keras's masking
 * rules (see withKerasLoop). Default kernelInitializer glorotUniform, as in Keras 3. Weights: kernel
 * `[in, u]`, recurrent_kernel `[u, u]`, bias `[u]`.
 */
export function defineSimpleRnn(tf: TfModule): TfbridgeSimpleRNNClass {
  // TF.js exports its SimpleRNN class only through the registry (tf.layers.simpleRNN makes instances).
  const SimpleRNNBase = tf.serialization.SerializationMap.getMap().classNameMap["SimpleRNN"]![0] as unknown as new (
    args: SimpleRNNLayerArgs,
  ) => SimpleRNN;
  return class TfbridgeSimpleRNN extends withKerasLoop(tf, SimpleRNNBase, TFBRIDGE_SIMPLE_RNN, (cell) => simpleRnnStep(tf, cell)) {
    static readonly className = TFBRIDGE_SIMPLE_RNN;

    constructor(args: TfbridgeSimpleRNNArgs) {
      super({ kernelInitializer: "glorotUniform", ...args });
    }
  };
}

import { type KerasLoop, withKerasLoop } from "./keras-rnn.js";
import { TFBRIDGE_LSTM } from "./names.js";
import { lstmStep } from "./recurrent-steps.js";
import type { TfModule } from "./tfjs-types.js";

type LSTMLayerArgs = import("@tensorflow/tfjs").LSTMLayerArgs;
type LSTM = ReturnType<TfModule["layers"]["lstm"]>;

/** TF.js's LSTM arguments plus Keras's `zero_output_for_mask`. */
export interface TfbridgeLSTMArgs extends LSTMLayerArgs {
  zeroOutputForMask?: boolean;
}

/** The registered {@link TFBRIDGE_LSTM} class. */
export interface TfbridgeLSTMClass {
  new (args: TfbridgeLSTMArgs): LSTM & KerasLoop;
  readonly className: string;
}

/**
 * Keras 3's LSTM: TF.js's own LSTM and LSTMCell (weights, config, training) in Keras's time loop, for
 * Keras's masking rules, computing each step at inference with {@link lstmStep} (see withKerasLoop).
 * Defaults are Keras 3's: recurrentActivation sigmoid, kernelInitializer glorotUniform,
 * unitForgetBias true. Weights: kernel `[in, 4u]`, recurrent_kernel `[u, 4u]`, bias `[4u]`; gates i, f, c, o.
 */
export function defineLstm(tf: TfModule): TfbridgeLSTMClass {
  // TF.js exports its LSTM class only through the registry (tf.layers.lstm makes instances).
  const LSTMBase = tf.serialization.SerializationMap.getMap().classNameMap["LSTM"]![0] as unknown as new (args: LSTMLayerArgs) => LSTM;
  return class TfbridgeLSTM extends withKerasLoop(tf, LSTMBase, TFBRIDGE_LSTM, (cell) => lstmStep(tf, cell)) {
    static readonly className = TFBRIDGE_LSTM;

    constructor(args: TfbridgeLSTMArgs) {
      super({ recurrentActivation: "sigmoid", kernelInitializer: "glorotUniform", unitForgetBias: true, ...args });
    }
  };
}

import type { Activation } from "../lstm/spec.js";
import { KERAS3_HARD_SIGMOID, registerKerasLayers } from "../tfjs-layers/index.js";
import type { Tfjs } from "./runtime.js";

export { KERAS3_HARD_SIGMOID };

/**
 * The TF.js activation that computes what the Keras name computes. `hard_sigmoid` maps to our own
 * Keras 3 formula, relu6(x + 3) / 6, not to TF.js's `hardSigmoid`, which is clip(0.2x + 0.5, 0, 1)
 * (see src/parity/traps.ts).
 */
export const TFJS_ACTIVATION: Readonly<Record<Activation, string>> = {
  tanh: "tanh",
  relu: "relu",
  sigmoid: "sigmoid",
  linear: "linear",
  hard_sigmoid: KERAS3_HARD_SIGMOID,
};

/** What a port that trusts names would use: TF.js's hardSigmoid is Keras 2's formula. */
export const NAIVE_TFJS_ACTIVATION: Readonly<Record<Activation, string>> = { ...TFJS_ACTIVATION, hard_sigmoid: "hardSigmoid" };

/** Makes Keras 3's hard_sigmoid (and our other Keras classes) known to TF.js layers by name. */
export function registerKerasActivations(tf: Tfjs): void {
  registerKerasLayers(tf);
}

import type { ResolvedLstmSpec } from "../spec/lstm.js";

/** A spec setting where Keras and TF.js, taken at their word, compute different things. */
export interface Trap {
  field: "activation" | "recurrentActivation";
  value: string;
  /** Why the naive translation would differ. */
  reason: string;
  /** What the comparison runs on the TF.js side instead, so that it compares like with like. */
  matchedBy: string;
}

const HARD_SIGMOID: Omit<Trap, "field"> = {
  value: "hard_sigmoid",
  reason:
    "Keras 3's hard_sigmoid is relu6(x + 3) / 6 (slope 1/6), TF.js's 'hardSigmoid' is clip(0.2·x + 0.5, 0, 1) " +
    "(slope 1/5, Keras 2's formula): they differ by up to 1/30 near |x| = 2.5. Besides, in a v1 Session (and " +
    "tf.function) Grappler's constant folding turns the division by 6 into a multiplication by float32(1/6) and " +
    "moves it onto the other factor of the gate product (i·tanh(c̃) becomes relu6(z+3)·(tanh(c̃)·1/6)), so the " +
    "Session rounds differently from the layer's own op order by a few ULP.",
  matchedBy:
    "TF.js runs Keras 3's formula, relu6(x + 3) / 6, registered as a custom activation, and is compared with " +
    "Python's eager mode, which runs the same ops in the same order with the same weights",
};

/** The known Keras-vs-TF.js traps this spec walks into, each with the reason and how parity handles it. */
export function knownTraps(spec: ResolvedLstmSpec): Trap[] {
  const traps: Trap[] = [];
  if (spec.activation === "hard_sigmoid") traps.push({ field: "activation", ...HARD_SIGMOID });
  if (spec.recurrentActivation === "hard_sigmoid") traps.push({ field: "recurrentActivation", ...HARD_SIGMOID });
  return traps;
}

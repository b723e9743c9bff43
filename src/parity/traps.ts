import type { ResolvedLstmSpec } from "../lstm/spec.js";

/**
 * A spec setting where the Python Session and a faithful TF.js port do not compute the same float
 * operations, so bit-for-bit agreement with the Session is not to be had; see each trap's reason.
 */
export interface Trap {
  id: "hard_sigmoid" | "hoisted_sigmoid";
  /** The spec fields that set it off. */
  fields: ("activation" | "recurrentActivation")[];
  /** Why the two sides differ. */
  reason: string;
  /** What parity compares instead, so that it compares like with like. */
  matchedBy: string;
}

const EAGER_REFERENCE =
  "TF.js is compared with Python's eager mode, which runs the layer's ops in the layer's order with the same weights " +
  "(the Session's difference from eager is measured and reported beside it)";

const HARD_SIGMOID =
  "Keras 3's hard_sigmoid is relu6(x + 3) / 6 (slope 1/6), TF.js's 'hardSigmoid' is clip(0.2·x + 0.5, 0, 1) " +
  "(slope 1/5, Keras 2's formula): they differ by up to 1/30 near |x| = 2.5, so TF.js runs Keras 3's formula as a " +
  "custom activation. Besides, in a v1 Session (and tf.function) Grappler's constant folding turns the division " +
  "by 6 into a multiplication by float32(1/6) and moves it onto the other factor of the gate product " +
  "(i·g becomes relu6(z+3)·(g·1/6)), which rounds differently from the layer's own op order by a few ULP.";

const HOISTED_SIGMOID =
  "With activation and recurrentActivation both sigmoid, all four gate pre-activations get the same unary op, " +
  "so Grappler's arithmetic optimizer (HoistCWiseUnaryChains) applies one Sigmoid to the whole [batch, 4·units] " +
  "pre-activation before the Split instead of one per gate. Eigen computes the elements that do not fill a whole " +
  "SIMD packet with its scalar logistic formula, which rounds differently from the vector one, and the hoisted " +
  "tensor has different tail elements whenever batch·units is not a multiple of the packet width (8 floats with " +
  "AVX2): the Session then differs from a per-gate evaluation by a few ULP.";

/** The traps this spec walks into, each with the reason and how parity handles it. */
export function knownTraps(spec: ResolvedLstmSpec): Trap[] {
  const traps: Trap[] = [];
  const hard = (["activation", "recurrentActivation"] as const).filter((f) => spec[f] === "hard_sigmoid");
  if (hard.length > 0) traps.push({ id: "hard_sigmoid", fields: hard, reason: HARD_SIGMOID, matchedBy: EAGER_REFERENCE });
  if (spec.activation === "sigmoid" && spec.recurrentActivation === "sigmoid") {
    traps.push({ id: "hoisted_sigmoid", fields: ["activation", "recurrentActivation"], reason: HOISTED_SIGMOID, matchedBy: EAGER_REFERENCE });
  }
  return traps;
}

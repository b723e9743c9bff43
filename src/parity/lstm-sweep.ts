import { type Activation, type LstmSpec, lstmModel } from "../models/lstm-spec.js";
import type { SweepModel } from "./model-sweep.js";

/** One spec of the LSTM sweep with the batch of its inputs. */
export interface LstmSweepCase {
  spec: LstmSpec;
  batch: number;
}

// [units, timesteps, features, batch]: the corners and the middle of units 1…128, timesteps 1…200,
// features 1…64, batch 1…32.
const SIZES: readonly [number, number, number, number][] = [
  [1, 1, 1, 1], [4, 7, 3, 2], [16, 30, 8, 4], [32, 50, 16, 8],
  [64, 100, 16, 32], [128, 200, 64, 32], [128, 10, 1, 1], [8, 200, 2, 16],
];
const ACTIVATIONS: readonly Activation[] = ["tanh", "relu", "sigmoid", "linear"];

/**
 * The LSTM sweep's 64 specs: every size crossed with eight argument variants, which between them turn
 * each flag on and off, use each activation, and put hard_sigmoid in both activation slots (with
 * sigmoid in both, Grappler hoists one Sigmoid over all four gates: the model parity's probes name it).
 */
export function lstmSweepCases(): LstmSweepCase[] {
  const cases: LstmSweepCase[] = [];
  SIZES.forEach(([units, timesteps, features, batch], s) => {
    for (let v = 0; v < 8; v++) {
      const i = s * 8 + v;
      cases.push({
        batch,
        spec: {
          units,
          inputShape: [timesteps, features],
          returnSequences: v % 2 === 1,
          returnState: (v >> 1) % 2 === 1,
          goBackwards: (v >> 2) % 2 === 1,
          activation: i % 17 === 5 ? "hard_sigmoid" : ACTIVATIONS[(v + s) % 4]!,
          recurrentActivation: i % 6 === 4 ? "hard_sigmoid" : "sigmoid",
          useBias: i % 7 !== 3,
          unitForgetBias: i % 3 !== 2,
          seed: i,
        },
      });
    }
  });
  return cases;
}

/**
 * `count` of the cases spread evenly over the list, each taken at a rotating offset inside its stretch
 * so that the flag variants rotate too (the list is sizes × 8 flag variants); all of them when `count`
 * is undefined or not smaller.
 */
export function sampleCases<T>(cases: readonly T[], count?: number): T[] {
  if (count === undefined || count >= cases.length) return [...cases];
  const stretch = Math.floor(cases.length / count);
  return Array.from({ length: count }, (_, i) => cases[Math.floor((i * cases.length) / count) + (i % stretch)]!);
}

/** A short name for a spec: `lstm-u8-t12x3-seq-state-back-tanh/sigmoid`. */
export function lstmCaseName({ spec: s }: LstmSweepCase): string {
  const flags = [s.returnSequences && "seq", s.returnState && "state", s.goBackwards && "back", s.useBias === false && "nobias", s.unitForgetBias === false && "noufb"].filter(Boolean);
  return [`lstm-u${s.units}-t${s.inputShape[0]}x${s.inputShape[1]}`, ...flags, `${s.activation ?? "tanh"}/${s.recurrentActivation ?? "sigmoid"}`].join("-");
}

/** `count` of the LSTM sweep's specs (all 64 by default) as models for the model sweep. */
export function lstmSweepModels(count?: number): SweepModel[] {
  return sampleCases(lstmSweepCases(), count).map((c) => ({ name: lstmCaseName(c), reference: false, batch: c.batch, seededInitializers: true, config: () => lstmModel(c.spec).config }));
}

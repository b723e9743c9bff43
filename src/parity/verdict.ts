import type { KerasLayerConfig } from "../models/config.js";
import type { NDArray } from "../wire/ndarray.js";
import { type Comparison, type Tolerance, compareArrays } from "./compare.js";
import { boundFor } from "./layer-bounds.js";

/**
 * The runs under which Python and tfjs-node can agree where the production ones do not, each changing
 * one thing: `onednn-off` oneDNN off in both runtimes (a second worker and a second tfjs-node with
 * `TF_ENABLE_ONEDNN_OPTS=0`: TF's own kernels), `unoptimized` the Session with graph rewrites off,
 * `onednn-off-unoptimized` both of those at once, `eager` the layer's own op order in Python.
 */
export type Probe = "onednn-off" | "unoptimized" | "onednn-off-unoptimized" | "eager";

/**
 * The order a cause is named in when several probes agree (every probe runs whenever anything differs,
 * so a layer's cause never depends on other layers): one change before two, kernels before rewrites.
 */
export const PROBES: readonly Probe[] = ["onednn-off", "unoptimized", "onednn-off-unoptimized", "eager"];

/**
 * Why a tfjs-node output is not bit-identical to the Session's: `onednn` (TF's default oneDNN kernels
 * on this CPU; with oneDNN off the Session equals tfjs-node), `grappler` (a graph rewrite; with rewrites
 * off it equals), `graph` (only Python eager equals), `inherited` (an input already differed), `bound`
 * (an op TF.js lacks, held to a stated bound), `unexplained`, or `shape`.
 */
export type DivergenceCause = "exact" | "onednn" | "grappler" | "graph" | "inherited" | "bound" | "unexplained" | "shape";

/**
 * A layer output's verdict: bit-identical, explained by a cause with its measured bound, within the
 * tolerance the user stated, or a failure.
 */
export type Verdict = "exact" | "explained" | "within-tolerance" | "fail";

/**
 * What a user accepts beyond explained differences: a layer passes when its worst element is at most
 * `maxUlp` apart, or when every element is within `atol + rtol·|expected|` (numpy `allclose`).
 */
export interface StatedTolerance {
  maxUlp?: number;
  atol?: number;
  rtol?: number;
}

/**
 * One probe's outputs for a layer: Python's, and tfjs-node's when the probe changed tfjs-node too (the
 * oneDNN-off control runs both runtimes with oneDNN off); otherwise tfjs-node's own output stands.
 */
export interface ProbeOutput {
  python: NDArray;
  tfjs?: NDArray;
}

/** What is known about one layer output when it is judged. */
export interface LayerEvidence {
  /** tfjs-node's output. */
  actual: NDArray;
  /** The Python Session's, as TensorFlow's defaults run it (the user's production setting). */
  expected: NDArray;
  /** Each probe's outputs, given only where that run fed this layer the same inputs in both runtimes. */
  probes: Partial<Record<Probe, ProbeOutput>>;
  /** An input of this layer that already differed on tfjs-node, if any. */
  inexactInput?: string;
  layerConfig?: KerasLayerConfig;
  tolerance?: StatedTolerance;
}

/** The verdict on one layer output, with the evidence it rests on. */
export interface Judgement {
  verdict: Verdict;
  cause: DivergenceCause;
  /** Why the output is not exact, with the measured distance; null when it is exact. */
  reason: string | null;
  /** The probes under which Python and tfjs-node agree bit for bit. */
  reproducedBy: Probe[];
  /** tfjs-node against the Session. */
  comparison: Comparison;
  pass: boolean;
}

/** Bit for bit: no difference allowed. */
export const EXACT: Tolerance = { atol: 0, rtol: 0 };
/** How far a difference inherited from an inexact input may grow on tfjs-node before it fails. */
export const INHERITED_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-5 };

const ONEDNN_OFF = "oneDNN off in both runtimes (TF_ENABLE_ONEDNN_OPTS=0: a second worker, and a second tfjs-node where this one runs oneDNN)";
const PROBE_TEXT: Record<Probe, string> = {
  "onednn-off": ONEDNN_OFF,
  "onednn-off-unoptimized": `${ONEDNN_OFF} and graph rewrites off in the Session`,
  unoptimized: "the Session with graph rewrites off",
  eager: "Python eager",
};

/** Same shape, dtype and bits in every element (NaN where the other has NaN). */
export function bitIdentical(a: NDArray, b: NDArray): boolean {
  const c = compareArrays(a, b, EXACT);
  return c.comparable && c.maxUlp === 0 && c.nan.mismatched === 0;
}

/** Whether `comparison`'s arrays are within what the user stated (nothing stated: never). */
export function withinStated(actual: NDArray, expected: NDArray, comparison: Comparison, tolerance: StatedTolerance | undefined): boolean {
  if (!tolerance || !comparison.comparable) return false;
  if (tolerance.maxUlp !== undefined && comparison.maxUlp <= tolerance.maxUlp) return true;
  if (tolerance.atol === undefined && tolerance.rtol === undefined) return false;
  return compareArrays(actual, expected, { atol: tolerance.atol ?? 0, rtol: tolerance.rtol ?? 0 }).pass;
}

/** The stated tolerance as the CLI spells it, for reasons. */
export function describeTolerance(t: StatedTolerance): string {
  return [t.maxUlp !== undefined && `max ULP ${t.maxUlp}`, t.atol !== undefined && `atol ${t.atol}`, t.rtol !== undefined && `rtol ${t.rtol}`].filter(Boolean).join(", ");
}

/**
 * Judges one layer output: pure data in, verdict out (so a case recorded on another CPU is judged here
 * exactly as there). A difference is explained by the first probe that reproduces tfjs-node bit for bit
 * — that run changed one thing, so that thing is the cause — and the Session's distance from tfjs-node
 * is the bound stated with it.
 */
export function judge(evidence: LayerEvidence): Judgement {
  const { actual, expected, probes, inexactInput, layerConfig, tolerance } = evidence;
  const comparison = compareArrays(actual, expected, EXACT);
  const verdictOf = (verdict: Verdict, cause: DivergenceCause, reason: string | null, reproducedBy: Probe[] = []): Judgement => ({
    verdict,
    cause,
    reason,
    reproducedBy,
    comparison,
    pass: verdict !== "fail",
  });
  if (comparison.comparable && comparison.maxUlp === 0 && comparison.nan.mismatched === 0) return verdictOf("exact", "exact", null);
  if (!comparison.comparable) {
    const { shape, dtype } = comparison;
    return verdictOf("fail", "shape", `shape or dtype differ: TF.js ${JSON.stringify(shape.actual)} ${dtype.actual}, Python ${JSON.stringify(shape.expected)} ${dtype.expected}`);
  }
  const measured = `${comparison.maxUlp} ULP, max abs ${comparison.maxAbsError.toExponential(2)}`;
  const reproducedBy = PROBES.filter((p) => probes[p] !== undefined && bitIdentical(probes[p]!.tfjs ?? actual, probes[p]!.python));
  const also = reproducedBy.length > 1 ? `; also reproduced by ${reproducedBy.slice(1).map((p) => PROBE_TEXT[p]).join(", ")}` : "";
  const orStated = (cause: DivergenceCause, reason: string): Judgement =>
    withinStated(actual, expected, comparison, tolerance)
      ? verdictOf("within-tolerance", cause, `${reason}; within the stated tolerance (${describeTolerance(tolerance!)})`, reproducedBy)
      : verdictOf("fail", cause, reason, reproducedBy);

  if (inexactInput !== undefined) {
    const inherits = `inherits the difference of its input ${inexactInput} (${measured})`;
    if (reproducedBy.length) return verdictOf("explained", "inherited", `${inherits}; with ${PROBE_TEXT[reproducedBy[0]!]} the runtimes agree bit for bit${also}`, reproducedBy);
    if (compareArrays(actual, expected, INHERITED_TOLERANCE).pass) return verdictOf("explained", "inherited", inherits, reproducedBy);
    return orStated("inherited", `${inherits}, beyond ${INHERITED_TOLERANCE.atol} absolute + ${INHERITED_TOLERANCE.rtol} relative`);
  }
  const firstProbe = reproducedBy.at(0);
  switch (firstProbe) {
    case "onednn-off":
      return verdictOf(
        "explained",
        "onednn",
        `oneDNN: oneDNN's kernels on this CPU move this layer by ${measured}; with ${ONEDNN_OFF} the Session equals tfjs-node bit for bit${also}`,
        reproducedBy,
      );
    case "onednn-off-unoptimized":
      return verdictOf(
        "explained",
        "onednn",
        `oneDNN and a graph rewrite: oneDNN's kernels on this CPU and Grappler's rewrite of the Session move this layer by ${measured}; with ${PROBE_TEXT["onednn-off-unoptimized"]} the Session equals tfjs-node bit for bit${also}`,
        reproducedBy,
      );
    case "unoptimized":
      return verdictOf(
        "explained",
        "grappler",
        `TensorFlow's graph optimizer (Grappler) rewrote this layer's ops in the Session (${measured}); ${PROBE_TEXT.unoptimized} equals tfjs-node bit for bit${also}`,
        reproducedBy,
      );
    case "eager":
      return verdictOf("explained", "graph", `the Session's graph computes this layer differently from Python eager (${measured}); tfjs-node equals Python eager bit for bit`, reproducedBy);
  }
  const bound = boundFor(layerConfig);
  if (bound !== null) {
    if (comparison.maxAbsError <= bound.atol) return verdictOf("explained", "bound", `${bound.reason} (${measured}; bound ${bound.atol})`);
    return orStated("bound", `${bound.reason} (${measured}) exceeds its bound ${bound.atol}`);
  }
  const tried = PROBES.filter((p) => probes[p] !== undefined).map((p) => PROBE_TEXT[p]);
  return orStated("unexplained", `unexplained: ${measured} although every input agrees bit for bit${tried.length ? `; the runtimes agree under none of: ${tried.join("; ")}` : ""}`);
}

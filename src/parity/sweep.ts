import type { TensorflowClient } from "../client.js";
import type { Activation, LstmSpec } from "../lstm/spec.js";
import { tfjsInfo } from "../tfjs/runtime.js";
import { type ParityReport, type RuntimeName, runParity } from "./engine.js";
import { textTable } from "../table.js";

/** One spec of the sweep with its batch size. */
export interface SweepCase {
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
 * The sweep's matrix: every size crossed with eight argument variants, which between them turn each
 * flag on and off, use each activation, and put hard_sigmoid (the known trap) in both activation slots.
 */
export function sweepCases(): SweepCase[] {
  const cases: SweepCase[] = [];
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

/** The sweep's JSON document. Worst figures are over the specs that are not known traps. */
export interface SweepSummary {
  backend: string;
  tensorflow: string;
  specs: number;
  failed: number;
  traps: number;
  worstAbsError: number;
  worstUlp: number;
  cpuWorstAbsError: number;
  /** tfjs-node running the worker's SavedModel against the Session, over every spec, traps included. */
  savedModelWorstUlp: number;
  results: ParityReport[];
}

function worst(results: ParityReport[], runtime: RuntimeName, pick: (c: { maxAbsError: number; maxUlp: number }) => number, includeTraps = false) {
  let w = 0;
  for (const r of results) {
    if (r.trap && !includeTraps) continue;
    for (const rt of r.runtimes) {
      if (rt.runtime === runtime) for (const c of Object.values(rt.comparisons)) w = Math.max(w, pick(c));
    }
  }
  return w;
}

/** Runs every case of the matrix; `onResult` sees each report as it comes (for progress). */
export async function runSweep(
  bridge: TensorflowClient,
  cases: readonly SweepCase[] = sweepCases(),
  onResult?: (report: ParityReport, index: number, total: number) => void,
): Promise<SweepSummary> {
  const results: ParityReport[] = [];
  for (const [i, c] of cases.entries()) {
    const report = await runParity(bridge, c.spec, { batch: c.batch, inputSeed: i });
    results.push(report);
    onResult?.(report, i, cases.length);
  }
  const info = await tfjsInfo();
  return {
    backend: info.backend,
    tensorflow: info.tensorflow,
    specs: results.length,
    failed: results.filter((r) => !r.pass).length,
    traps: results.filter((r) => r.trap).length,
    worstAbsError: worst(results, "tfjs-node", (c) => c.maxAbsError),
    worstUlp: worst(results, "tfjs-node", (c) => c.maxUlp),
    cpuWorstAbsError: worst(results, "tfjs-cpu", (c) => c.maxAbsError),
    savedModelWorstUlp: worst(results, "tfjs-node-savedmodel", (c) => c.maxUlp, true),
    results,
  };
}

const num = (x: number) => (x === 0 ? "0" : x.toExponential(2));

/** One line per spec, then the totals. */
export function formatSweep(summary: SweepSummary): string {
  const rows = summary.results.map((r, i) => {
    const s = r.spec;
    const node = r.runtimes.find((rt) => rt.runtime === "tfjs-node");
    const cpu = r.runtimes.find((rt) => rt.runtime === "tfjs-cpu");
    const graph = r.runtimes.find((rt) => rt.runtime === "tfjs-node-savedmodel");
    const maxOf = (rt: typeof node, f: (c: { maxAbsError: number; maxUlp: number }) => number) =>
      rt ? Math.max(...Object.values(rt.comparisons).map(f)) : 0;
    const flags = [s.returnSequences && "seq", s.returnState && "state", s.goBackwards && "back", !s.useBias && "nobias", !s.unitForgetBias && "noufb"].filter(Boolean).join(",");
    return [
      String(i + 1),
      `${s.units}`,
      `[${r.inputShape}]`,
      `${s.activation}/${s.recurrentActivation}`,
      flags || "-",
      r.reference,
      String(maxOf(node, (c) => c.maxUlp)),
      num(maxOf(node, (c) => c.maxAbsError)),
      num(maxOf(cpu, (c) => c.maxAbsError)),
      String(maxOf(graph, (c) => c.maxUlp)),
      r.trap ? "trap" : "",
      r.pass ? "pass" : "FAIL",
    ];
  });
  return [
    textTable(["#", "units", "input", "act/recurrent", "flags", "vs py", "node ULP", "node abs", "cpu abs", "graph ULP", "", "verdict"], rows),
    "",
    `backend ${summary.backend}, TensorFlow ${summary.tensorflow}: ${summary.specs} specs, ${summary.failed} failed, ${summary.traps} known traps`,
    `tfjs-node vs Python Session (non-trap specs): worst ${summary.worstUlp} ULP, worst abs ${num(summary.worstAbsError)}`,
    `tfjs JS CPU backend (non-trap specs): worst abs ${num(summary.cpuWorstAbsError)}`,
    `tfjs-node running the SavedModel vs Python Session (all specs): worst ${summary.savedModelWorstUlp} ULP`,
  ].join("\n");
}

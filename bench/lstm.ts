import { rmSync } from "node:fs";
import { type Bridge, type LstmSpec, type NDArray } from "../src/index.js";
import { resolveLstmSpec } from "../src/lstm/spec.js";
import { seededInput } from "../src/parity/engine.js";
import { buildTfjsLstm } from "../src/tfjs/lstm.js";
import { loadTfjsSavedModel } from "../src/tfjs/savedmodel.js";
import { type Summary, progress, release, round, summarize, timeMs } from "./stats.js";

export const BENCH_SPEC: LstmSpec = { units: 64, inputShape: [100, 16], returnSequences: true };
export const BENCH_BATCH = 32;

export interface LstmSection {
  spec: LstmSpec;
  batch: number;
  /** The v1 Session run alone, timed inside the worker: the floor. */
  sessionInWorker: Summary;
  /** The same runs end to end through the bridge (default, local link). */
  bridge: Summary;
  /** (bridge − in-worker) ÷ in-worker, medians, in percent. */
  bridgeOverheadPct: number;
  /** The same over the ZeroMQ link. */
  bridgeZeromq: Summary;
  bridgeOverheadPctZeromq: number;
  /** Overhead by output size (batch varied), on both links. */
  scaling: ScalingRow[];
  /** Median (end to end − in worker) at the smallest size, local link, in ms: what a call costs beyond its work. */
  fixedCostMs: number;
  tfjsNodeLayers: Summary;
  tfjsCpuLayers: Summary;
  /** tfjs-node running the Python-written SavedModel as one graph. */
  tfjsNodeSavedModel: Summary;
  /** Fastest TF.js path's median ÷ in-worker Session median. */
  bestTfjsVsSession: number;
}

export interface ScalingRow {
  batch: number;
  /** Bytes of the output ([batch, 100, 64] float32). */
  outputBytes: number;
  local: { inWorker: Summary; total: Summary; overheadPct: number };
  zeromq: { inWorker: Summary; total: Summary; overheadPct: number };
}

/** Runs of `BENCH_SPEC` on `x`: end to end, and the in-worker time each reported; outputs released at once. */
async function timedRuns(bridge: Bridge, x: NDArray, reps: number): Promise<{ inWorker: Summary; total: Summary; overheadPct: number }> {
  const inWorker: number[] = [];
  const total = await timeMs(async () => {
    const r = await bridge.runLstm(BENCH_SPEC, x);
    inWorker.push(r.runMs);
    release([r.output]);
  }, reps, 2);
  const worker = summarize(inWorker.slice(-reps));
  return { inWorker: worker, total, overheadPct: round(((total.median - worker.median) / worker.median) * 100) };
}

export async function lstm(bridge: Bridge, zeromq: Bridge, quick: boolean): Promise<LstmSection> {
  const reps = quick ? 10 : 50;
  const x = seededInput([BENCH_BATCH, ...BENCH_SPEC.inputShape], 3);
  const first = await bridge.runLstm(BENCH_SPEC, x, { returnWeights: true }); // builds graph and session
  const weights = first.weights!;
  await zeromq.runLstm(BENCH_SPEC, x);
  const local = await timedRuns(bridge, x, reps);
  const overZeromq = await timedRuns(zeromq, x, reps);
  const sessionInWorker = local.inWorker;
  progress(`lstm: session in worker ${round(sessionInWorker.median)} ms, through bridge ${round(local.total.median)} ms (ZeroMQ link ${round(overZeromq.total.median)} ms)`);

  // The sizes: 0.12, 0.98, 7.8 and 37.5 MiB of output.
  const scaling: ScalingRow[] = [];
  for (const batch of quick ? [5, 40] : [5, 40, 320, 1536]) {
    const xb = seededInput([batch, ...BENCH_SPEC.inputShape], 4);
    const n = Math.max(5, Math.round(reps * Math.min(1, 40 / batch)));
    const row: ScalingRow = { batch, outputBytes: batch * 100 * 64 * 4, local: await timedRuns(bridge, xb, n), zeromq: await timedRuns(zeromq, xb, n) };
    scaling.push(row);
    progress(`lstm scaling, ${round(row.outputBytes / 2 ** 20)} MiB out: overhead ${row.local.overheadPct}% (ZeroMQ ${row.zeromq.overheadPct}%)`);
  }
  const smallest = scaling[0]!.local;
  const fixedCostMs = round(smallest.total.median - smallest.inWorker.median);

  const resolved = resolveLstmSpec(BENCH_SPEC);
  const node = await buildTfjsLstm(resolved, weights, { backend: "tensorflow" });
  const tfjsNodeLayers = await timeMs(() => node.run(x), reps, 2);
  await node.dispose();
  progress(`lstm: tfjs-node layers ${round(tfjsNodeLayers.median)} ms`);
  const cpu = await buildTfjsLstm(resolved, weights, { backend: "cpu" });
  const tfjsCpuLayers = await timeMs(() => cpu.run(x), quick ? 2 : 5, 1);
  await cpu.dispose();
  progress(`lstm: tfjs JS CPU layers ${round(tfjsCpuLayers.median)} ms`);

  const path = await bridge.exportLstm({ ...BENCH_SPEC, weights });
  const saved = await loadTfjsSavedModel(path);
  const tfjsNodeSavedModel = await timeMs(() => saved.run(x), reps, 2);
  saved.dispose();
  rmSync(path, { recursive: true, force: true });
  progress(`lstm: tfjs-node SavedModel ${round(tfjsNodeSavedModel.median)} ms`);

  const bestTfjs = Math.min(tfjsNodeLayers.median, tfjsCpuLayers.median, tfjsNodeSavedModel.median);
  return {
    spec: BENCH_SPEC,
    batch: BENCH_BATCH,
    sessionInWorker,
    bridge: local.total,
    bridgeOverheadPct: local.overheadPct,
    bridgeZeromq: overZeromq.total,
    bridgeOverheadPctZeromq: overZeromq.overheadPct,
    scaling,
    fixedCostMs,
    tfjsNodeLayers,
    tfjsCpuLayers,
    tfjsNodeSavedModel,
    bestTfjsVsSession: round(bestTfjs / sessionInWorker.median),
  };
}

import { rmSync } from "node:fs";
import { type Bridge, type LstmSpec, resolveLstmSpec } from "../src/index.js";
import { seededInput } from "../src/parity/engine.js";
import { buildTfjsLstm } from "../src/tfjs/lstm.js";
import { loadTfjsSavedModel } from "../src/tfjs/savedmodel.js";
import { type Summary, progress, round, summarize, timeMs } from "./stats.js";

export const BENCH_SPEC: LstmSpec = { units: 64, inputShape: [100, 16], returnSequences: true };
export const BENCH_BATCH = 32;

export interface LstmSection {
  spec: LstmSpec;
  batch: number;
  /** The v1 Session run alone, timed inside the worker: the floor. */
  sessionInWorker: Summary;
  /** The same runs end to end through the bridge. */
  bridge: Summary;
  /** (bridge − in-worker) ÷ in-worker, medians, in percent. */
  bridgeOverheadPct: number;
  tfjsNodeLayers: Summary;
  tfjsCpuLayers: Summary;
  /** tfjs-node running the Python-written SavedModel as one graph. */
  tfjsNodeSavedModel: Summary;
  /** Fastest TF.js path's median ÷ in-worker Session median. */
  bestTfjsVsSession: number;
}

export async function lstm(bridge: Bridge, quick: boolean): Promise<LstmSection> {
  const reps = quick ? 10 : 50;
  const x = seededInput([BENCH_BATCH, ...BENCH_SPEC.inputShape], 3);
  const first = await bridge.runLstm(BENCH_SPEC, x, { returnWeights: true }); // builds graph and session
  const weights = first.weights!;
  const inWorker: number[] = [];
  const bridgeSummary = await timeMs(async () => inWorker.push((await bridge.runLstm(BENCH_SPEC, x)).runMs), reps, 2);
  const sessionInWorker = summarize(inWorker.slice(-reps));
  progress(`lstm: session in worker ${round(sessionInWorker.median)} ms, through bridge ${round(bridgeSummary.median)} ms`);

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
    bridge: bridgeSummary,
    bridgeOverheadPct: round(((bridgeSummary.median - sessionInWorker.median) / sessionInWorker.median) * 100),
    tfjsNodeLayers,
    tfjsCpuLayers,
    tfjsNodeSavedModel,
    bestTfjsVsSession: round(bestTfjs / sessionInWorker.median),
  };
}

import { spawn } from "node:child_process";
import { Bridge } from "../src/index.js";
import { seededInput } from "../src/random.js";
import { defaultPython } from "../src/worker/process.js";
import { BENCH_BATCH, BENCH_SPEC } from "./lstm.js";
import { type Summary, progress, round, summarize } from "./stats.js";

export interface ColdStartSection {
  /** Bridge.start({ forkServer: false }) to the first LSTM result: a fresh interpreter, in ms. */
  bridgeToFirstLstm: Summary;
  /** Bridge.start() to the first LSTM result with the fork server already running: a forked worker, in ms. */
  forkedBridgeToFirstLstm: Summary;
  /** A bare `python -c "import tensorflow"`, until the import has returned (interpreter exit not counted), in ms. */
  pythonImportTensorflow: Summary;
  /** bridgeToFirstLstm ÷ pythonImportTensorflow. */
  ratio: number;
  /** bridgeToFirstLstm ÷ forkedBridgeToFirstLstm: what the fork server saves each worker start. */
  forkedSpeedup: number;
}

export async function coldStart(quick: boolean): Promise<ColdStartSection> {
  const reps = quick ? 1 : 3;
  const x = seededInput([BENCH_BATCH, ...BENCH_SPEC.inputShape], 3);
  const bridgeTimes: number[] = [];
  const forkedTimes: number[] = [];
  const importTimes: number[] = [];
  const toFirstLstm = async (forkServer: boolean): Promise<number> => {
    const t0 = performance.now();
    await using bridge = await Bridge.start({ forkServer });
    await bridge.runLstm(BENCH_SPEC, x);
    return performance.now() - t0;
  };
  // The fork server runs from here on, as in a process that started workers before.
  await using warm = await Bridge.start();
  await warm.call("hello");
  for (let i = 0; i < reps; i++) {
    bridgeTimes.push(await toFirstLstm(false));
    forkedTimes.push(await toFirstLstm(true));
    const t0 = performance.now();
    await importTensorflow();
    importTimes.push(performance.now() - t0);
  }
  const fresh = summarize(bridgeTimes);
  const forked = summarize(forkedTimes);
  const imported = summarize(importTimes);
  const section = {
    bridgeToFirstLstm: fresh,
    forkedBridgeToFirstLstm: forked,
    pythonImportTensorflow: imported,
    ratio: round(fresh.median / imported.median),
    forkedSpeedup: round(fresh.median / forked.median),
  };
  progress(`cold start: bridge to first LSTM ${round(fresh.median)} ms fresh, ${round(forked.median)} ms forked; import tensorflow ${round(imported.median)} ms`);
  return section;
}

/** Resolves when a fresh Python has imported TensorFlow; TF's slow interpreter teardown is not waited for. */
function importTensorflow(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(defaultPython(), ["-c", "import tensorflow; print('imported', flush=True)"], {
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" },
      stdio: ["ignore", "pipe", "ignore"],
    });
    child.stdout.once("data", () => {
      resolve();
      child.kill();
    });
    child.once("exit", (code) => reject(new Error(`python exited with ${code} before importing tensorflow`)));
  });
}

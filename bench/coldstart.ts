import { spawn } from "node:child_process";
import { Bridge } from "../src/index.js";
import { seededInput } from "../src/random.js";
import { defaultPython } from "../src/worker/process.js";
import { BENCH_BATCH, BENCH_SPEC } from "./lstm.js";
import { type Summary, progress, round, summarize } from "./stats.js";

export interface ColdStartSection {
  /** Bridge.start() to the first LSTM result, in ms. */
  bridgeToFirstLstm: Summary;
  /** A bare `python -c "import tensorflow"`, until the import has returned (interpreter exit not counted), in ms. */
  pythonImportTensorflow: Summary;
  ratio: number;
}

export async function coldStart(quick: boolean): Promise<ColdStartSection> {
  const reps = quick ? 1 : 3;
  const x = seededInput([BENCH_BATCH, ...BENCH_SPEC.inputShape], 3);
  const bridgeTimes: number[] = [];
  const importTimes: number[] = [];
  for (let i = 0; i < reps; i++) {
    let t0 = performance.now();
    const bridge = await Bridge.start();
    await bridge.runLstm(BENCH_SPEC, x);
    bridgeTimes.push(performance.now() - t0);
    await bridge.close();
    t0 = performance.now();
    await importTensorflow();
    importTimes.push(performance.now() - t0);
  }
  const section = { bridgeToFirstLstm: summarize(bridgeTimes), pythonImportTensorflow: summarize(importTimes), ratio: 0 };
  section.ratio = round(section.bridgeToFirstLstm.median / section.pythonImportTensorflow.median);
  progress(`cold start: bridge to first LSTM ${round(section.bridgeToFirstLstm.median)} ms, import tensorflow ${round(section.pythonImportTensorflow.median)} ms`);
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

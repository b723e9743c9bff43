/**
 * The `targets` section of `make bench`: issue 21's seven reference models (test/convert/make_models.py),
 * batch 8, on every runtime tfbridge proves a model on, one run: the Session in the worker (its own
 * time), the bridge end to end, the converted files (`convert`) in stock TF.js on tfjs-node, the JS CPU
 * backend and WASM, the model's SavedModel in tfjs-node, and its ONNX file (`convert --to onnx`) in
 * onnxruntime-node and onnxruntime-web (WASM, single-threaded) — median ms, and each one's largest
 * absolute difference from the Session's output.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Bridge, type NDArray, convertModel, convertModelToOnnx, ndarray } from "../src/index.js";
import { OnnxModel } from "../src/onnx/model.js";
import type { OnnxRuntimeKind } from "../src/onnx/runtime.js";
import { loadTfjsModel } from "../src/tfjs/model.js";
import { loadTfjsSavedModel } from "../src/tfjs/savedmodel.js";
import { type Summary, progress, release, round, summarize, timeMs } from "./stats.js";

const MODELS = ["lstm", "embedding-bigru", "conv1d-causal-lstm", "lstm-encoder-decoder", "simplernn-layernorm", "gru-reset-before", "lstm-relu-hardsigmoid-bn"];
const BATCH = 8;

/** One runtime's figures on one model. */
export interface TargetTiming {
  medianMs: number;
  /** Largest |this runtime's output − the Session's| over the model's outputs. */
  maxAbsError: number;
}

export interface TargetRow {
  model: string;
  sessionInWorker: number;
  bridge: number;
  tfjsNodeLayers: TargetTiming;
  tfjsNodeSavedModel: TargetTiming;
  jsCpu: TargetTiming;
  wasm: TargetTiming | null;
  onnxruntimeNode: TargetTiming;
  onnxruntimeWeb: TargetTiming;
  /** The converted model on tfjs-node ÷ the Session in the worker (issue 21's goal: ≤ 1.5). */
  tfjsNodeVsSession: number;
}

/** The first `BATCH` rows of `x`, repeating its rows as needed (make_models.py writes batches of 3). */
function tiled(x: NDArray): NDArray {
  const row = x.data.length / x.shape[0]!;
  const data = new (x.data.constructor as new (n: number) => NDArray["data"])(BATCH * row);
  for (let i = 0; i < BATCH; i++) (data as Float32Array).set((x.data as Float32Array).subarray((i % x.shape[0]!) * row, ((i % x.shape[0]!) + 1) * row), i * row);
  return ndarray(x.dtype as "float32", [BATCH, ...x.shape.slice(1)], data as Float32Array);
}

function maxAbsError(actual: readonly NDArray[], expected: readonly NDArray[]): number {
  let worst = 0;
  actual.forEach((a, k) => {
    const e = expected[k]!;
    for (let i = 0; i < e.data.length; i++) worst = Math.max(worst, Math.abs(Number(a.data[i]) - Number(e.data[i])));
  });
  return worst;
}

export async function targets(bridge: Bridge, wasm: boolean, quick: boolean): Promise<TargetRow[]> {
  const reps = quick ? 10 : 50;
  const dir = mkdtempSync(join(tmpdir(), "tfbridge-bench-targets-"));
  const rows: TargetRow[] = [];
  try {
    execFileSync(".venv/bin/python", ["test/convert/make_models.py", dir], { stdio: ["ignore", "ignore", "inherit"] });
    for (const name of MODELS) {
      const path = join(dir, `${name}.keras`);
      const arrays = await bridge.loadNpz(join(dir, `${name}.inputs.npz`));
      await using handle = await bridge.loadModel(path);
      const inputs = handle.inputs.map((i) => tiled(arrays[i.name]!));
      const session = await handle.predict(inputs);
      const expected = session.names.map((n) => session.outputs[n]!);
      const inWorker: number[] = [];
      const total = await timeMs(async () => {
        const r = await handle.predict(inputs);
        inWorker.push(r.runMs);
        release(Object.values(r.outputs));
      }, reps);
      const sessionInWorker = summarize(inWorker.slice(1)).median;

      const out = join(dir, `${name}-web`);
      const conversion = await convertModel(path, out, { bridge });
      if (!conversion.ok) throw new Error(`${name}: convert did not prove its files`);
      const onBackend = async (backend: "tensorflow" | "cpu" | "wasm"): Promise<TargetTiming> => {
        const twin = await loadTfjsModel(join(out, "model.json"), { backend: backend as "tensorflow" | "cpu" }); // "wasm" too, once its package has registered it
        try {
          const error = maxAbsError(await twin.predictStock(inputs), expected);
          const timing: Summary = await timeMs(() => twin.predictStock(inputs), backend === "cpu" ? Math.min(reps, 5) : reps);
          return { medianMs: round(timing.median), maxAbsError: error };
        } finally {
          await twin.dispose();
        }
      };
      const tfjsNodeLayers = await onBackend("tensorflow");
      const jsCpu = await onBackend("cpu");
      const onWasm = wasm ? await onBackend("wasm") : null;

      const saved = await loadTfjsSavedModel(await handle.exportSavedModel(join(dir, `${name}-savedmodel`)), session.names);
      const feeds = Object.fromEntries(handle.inputs.map((i, k) => [i.name, inputs[k]!]));
      const savedError = maxAbsError(await saved.predict(feeds), expected);
      const savedTiming = await timeMs(() => saved.predict(feeds), reps);
      saved.dispose();

      const onnxOut = join(dir, `${name}-onnx`);
      if (!(await convertModelToOnnx(path, onnxOut, { bridge })).ok) throw new Error(`${name}: convert --to onnx did not prove its file`);
      const onOnnx = async (runtime: OnnxRuntimeKind): Promise<TargetTiming> => {
        const model = await OnnxModel.load(runtime, join(onnxOut, "model.onnx"));
        try {
          const outputs = await model.run(feeds);
          const error = maxAbsError(session.names.map((n) => outputs[n]!), expected);
          const timing = await timeMs(() => model.run(feeds), reps);
          return { medianMs: round(timing.median), maxAbsError: error };
        } finally {
          await model.release();
        }
      };
      const onnxruntimeNode = await onOnnx("onnxruntime-node");
      const onnxruntimeWeb = await onOnnx("onnxruntime-web");
      release(expected);

      const row: TargetRow = {
        model: name,
        sessionInWorker: round(sessionInWorker),
        bridge: round(total.median),
        tfjsNodeLayers,
        tfjsNodeSavedModel: { medianMs: round(savedTiming.median), maxAbsError: savedError },
        jsCpu,
        wasm: onWasm,
        onnxruntimeNode,
        onnxruntimeWeb,
        tfjsNodeVsSession: round(tfjsNodeLayers.medianMs / sessionInWorker),
      };
      progress(`targets: ${JSON.stringify(row)}`);
      rows.push(row);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

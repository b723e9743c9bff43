/**
 * `make bench APPLICATIONS=1`: what the TF.js twin costs on real image models. Per Keras Application
 * (weights=None; QUICK=1: MobileNetV2 and ResNet50 only), one predict of a batch of 1 in the worker's
 * Session (its own time, and end to end through the bridge), and the converted files in stock TF.js
 * on tfjs-node, the JS CPU backend and WASM — medians, one run.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Bridge, convertModel, ndarray } from "../src/index.js";
import { loadTfjsModel } from "../src/tfjs/model.js";
import { type Summary, progress, round, summarize, timeMs } from "./stats.js";

const ALL: Record<string, string> = {
  MobileNetV2: "MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None)",
  MobileNetV3Small: "MobileNetV3Small(input_shape=(96, 96, 3), weights=None)",
  MobileNetV3Large: "MobileNetV3Large(input_shape=(96, 96, 3), weights=None)",
  EfficientNetB0: "EfficientNetB0(input_shape=(96, 96, 3), weights=None)",
  EfficientNetV2B0: "EfficientNetV2B0(input_shape=(96, 96, 3), weights=None)",
  ResNet50: "ResNet50(input_shape=(96, 96, 3), weights=None)",
  ResNet50V2: "ResNet50V2(input_shape=(96, 96, 3), weights=None)",
  DenseNet121: "DenseNet121(input_shape=(96, 96, 3), weights=None)",
  NASNetMobile: "NASNetMobile(input_shape=(96, 96, 3), weights=None)",
  Xception: "Xception(input_shape=(96, 96, 3), weights=None)",
  InceptionV3: "InceptionV3(input_shape=(96, 96, 3), weights=None)",
  VGG16: "VGG16(input_shape=(96, 96, 3), weights=None)",
  ConvNeXtTiny: "ConvNeXtTiny(input_shape=(96, 96, 3), weights=None)",
};
const QUICK = ["MobileNetV2", "ResNet50"];

export interface ApplicationRow {
  model: string;
  /** Medians in ms of one predict, batch 1, 96×96×3. */
  sessionInWorker: number;
  bridge: number;
  tfjsNode: number;
  jsCpu: number;
  wasm: number | null;
  /** tfjs-node ÷ the Session in the worker. */
  tfjsNodeVsSession: number;
}

/** Saves each Application as a .keras file (one Python process: TensorFlow is imported once). */
function saveApplications(names: string[], dir: string): void {
  const script = `import os, sys, json
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
for name, call in json.loads(sys.argv[1]).items():
    getattr(keras.applications, call.split("(")[0])  # fail early on a typo
    eval("keras.applications." + call, {"keras": keras}).save(os.path.join(sys.argv[2], name + ".keras"))
`;
  execFileSync(".venv/bin/python", ["-c", script, JSON.stringify(Object.fromEntries(names.map((n) => [n, ALL[n]!]))), dir], { stdio: ["ignore", "ignore", "inherit"] });
}

export async function applications(bridge: Bridge, wasm: boolean, quick: boolean): Promise<ApplicationRow[]> {
  const names = quick ? QUICK : Object.keys(ALL);
  const reps = quick ? 3 : 10;
  const dir = mkdtempSync(join(tmpdir(), "tfbridge-bench-applications-"));
  const rows: ApplicationRow[] = [];
  try {
    saveApplications(names, dir);
    for (const name of names) {
      const path = join(dir, `${name}.keras`);
      await using handle = await bridge.loadModel(path);
      const x = ndarray("float32", [1, 96, 96, 3], Float32Array.from({ length: 96 * 96 * 3 }, (_, i) => Math.sin(i)));
      const inWorker: number[] = [];
      const total = await timeMs(async () => inWorker.push((await handle.predict([x])).runMs), reps, 1);
      const session = summarize(inWorker.slice(1));
      const out = join(dir, `${name}-web`);
      await convertModel(path, out, { bridge });
      const timed = async (backend: string): Promise<Summary> => {
        const twin = await loadTfjsModel(join(out, "model.json"), { backend: backend as never });
        try {
          return await timeMs(() => twin.predictStock([x]), backend === "cpu" ? Math.min(reps, 3) : reps, 1);
        } finally {
          await twin.dispose();
        }
      };
      const node = await timed("tensorflow");
      const cpu = await timed("cpu");
      const onWasm = wasm ? await timed("wasm") : null;
      const row = {
        model: name,
        sessionInWorker: round(session.median),
        bridge: round(total.median),
        tfjsNode: round(node.median),
        jsCpu: round(cpu.median),
        wasm: onWasm ? round(onWasm.median) : null,
        tfjsNodeVsSession: round(node.median / session.median),
      };
      progress(`applications: ${JSON.stringify(row)}`);
      rows.push(row);
      rmSync(out, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

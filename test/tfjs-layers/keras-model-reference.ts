import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { KerasModelConfig } from "../../src/models/config.js";
import { type NDArray, ndarray } from "../../src/wire/ndarray.js";

/** One layer called on its inputs in a functional model, for keras_model_reference.py to run. */
export interface ModelCase {
  id: string;
  /** A keras.layers class name and the arguments Keras's constructor takes. */
  class_name: string;
  config: Record<string, unknown>;
  /** Each input's shape (batch included), dtype (float32 default) and value range [low, high). */
  inputs: { shape: number[]; dtype?: "float32" | "int32"; range?: [number, number] }[];
  seed: number;
  /** A layer the inputs go through first (an Embedding with mask_zero hands the layer a mask). */
  before?: { class_name: string; config: Record<string, unknown> };
}

/** What Keras computed, and what the twin is built from. */
export interface ModelReference {
  id: string;
  /** `model.to_json()` of the one-layer model. */
  config: KerasModelConfig;
  /** The worker's schema on that config (models/schema.py tfjs_support). */
  pythonSchema: { supported: boolean; problems?: { layer: string; class: string; reason: string; field?: string }[] };
  /** By layer, in Keras's order: float32, and int64 for Normalization's count. */
  weights: Record<string, NDArray[]>;
  inputs: NDArray[];
  /** The model's output, as float32 (the twin's outputs are float32), eagerly, in a tf.function, in a v1 Session. */
  eager: NDArray<"float32">;
  function: NDArray<"float32">;
  session: NDArray<"float32">;
}

interface Wire {
  shape: number[];
  dtype: string;
  data: number[];
}

const script = fileURLToPath(new URL("keras_model_reference.py", import.meta.url));
const python = fileURLToPath(new URL("../../.venv/bin/python", import.meta.url));

function toArray(a: Wire): NDArray {
  if (a.dtype === "int64") return ndarray("int64", a.shape, BigInt64Array.from(a.data, BigInt));
  if (a.dtype === "int32") return ndarray("int32", a.shape, Int32Array.from(a.data));
  return ndarray("float32", a.shape, Float32Array.from(a.data));
}
const asFloat = (a: Wire) => ndarray("float32", a.shape, Float32Array.from(a.data));

/** Runs real Keras 3 (the project's venv) on the cases, in one Python process (`env`: extra variables). */
export function kerasModelReference(cases: ModelCase[], env: Record<string, string> = {}): Map<string, ModelReference> {
  const run = spawnSync(python, [script], { input: JSON.stringify(cases), maxBuffer: 1 << 28, encoding: "utf8", env: { ...process.env, ...env } });
  if (run.status !== 0) throw new Error(`keras_model_reference.py failed (${run.status}):\n${run.stderr}`);
  const results = JSON.parse(run.stdout) as Record<string, unknown>[];
  return new Map(
    results.map((r) => {
      const weights = Object.fromEntries(Object.entries(r["weights"] as Record<string, Wire[]>).map(([k, ws]) => [k, ws.map(toArray)]));
      const ref: ModelReference = {
        id: r["id"] as string,
        config: r["config"] as KerasModelConfig,
        pythonSchema: r["python_schema"] as ModelReference["pythonSchema"],
        weights,
        inputs: (r["inputs"] as Wire[]).map(toArray),
        eager: asFloat(r["eager"] as Wire),
        function: asFloat(r["function"] as Wire),
        session: asFloat(r["session"] as Wire),
      };
      return [ref.id, ref];
    }),
  );
}

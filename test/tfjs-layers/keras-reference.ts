import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type NDArray, ndarray } from "../../src/wire/ndarray.js";

/** One layer for keras_reference.py to build, fill with seeded weights and run. */
export interface ReferenceCase {
  id: string;
  /** A keras.layers class name, and its Keras 3 config (a wrapper's `layer` is `{class_name, config}`). */
  class_name: string;
  config: Record<string, unknown>;
  batch: number;
  timesteps: number;
  features: number;
  seed: number;
  /** Masking(0) over float steps, or Embedding(vocab, features, mask_zero) over ids. */
  mask?: "masking" | "embedding";
  vocab?: number;
  /** Per batch row, how many trailing steps are padding (masked). */
  padding?: number[];
  /** Padding at the end of each row (default) or at its start. */
  padding_side?: "post" | "pre";
  /** Sizes of initial states to feed (random values). */
  initial_state?: number[];
}

export interface ReferenceResult {
  id: string;
  inputs: NDArray[];
  /** Masking has none; Embedding has its table. */
  preWeights: NDArray<"float32">[];
  /** In Keras's `layer.weights` order. */
  layerWeights: NDArray<"float32">[];
  layerWeightNames: string[];
  /** The layer's resolved Keras 3 config (`layer.get_config()`), every default explicit. */
  config: Record<string, unknown>;
  eager: NDArray<"float32">[];
  function: NDArray<"float32">[];
  session: NDArray<"float32">[];
}

interface Wire {
  shape: number[];
  data: number[];
}

const script = fileURLToPath(new URL("keras_reference.py", import.meta.url));
const python = fileURLToPath(new URL("../../.venv/bin/python", import.meta.url));

const f32 = (a: Wire) => ndarray("float32", a.shape, Float32Array.from(a.data));

/** Runs real Keras 3 (the project's venv) on the cases, in one Python process (`env`: extra variables). */
export function kerasReference(cases: ReferenceCase[], env: Record<string, string> = {}): Map<string, ReferenceResult> {
  const run = spawnSync(python, [script], { input: JSON.stringify(cases), maxBuffer: 1 << 28, encoding: "utf8", env: { ...process.env, ...env } });
  if (run.status !== 0) throw new Error(`keras_reference.py failed (${run.status}):\n${run.stderr}`);
  const results = JSON.parse(run.stdout) as Record<string, unknown>[];
  return new Map(
    results.map((r) => {
      const inputs = (r["inputs"] as Wire[]).map((a, i) =>
        i === 0 && cases.find((c) => c.id === r["id"])?.mask === "embedding" ? ndarray("int32", a.shape, Int32Array.from(a.data)) : f32(a),
      );
      const result: ReferenceResult = {
        id: r["id"] as string,
        inputs,
        preWeights: (r["pre_weights"] as Wire[]).map(f32),
        layerWeights: (r["layer_weights"] as Wire[]).map(f32),
        layerWeightNames: r["layer_weight_names"] as string[],
        config: r["config"] as Record<string, unknown>,
        eager: (r["eager"] as Wire[]).map(f32),
        function: (r["function"] as Wire[]).map(f32),
        session: (r["session"] as Wire[]).map(f32),
      };
      return [result.id, result];
    }),
  );
}

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { KerasModelConfig } from "../../src/models/config.js";
import type { ModelWeights } from "../../src/models/handle.js";
import { type NDArray, ndarray } from "../../src/wire/ndarray.js";

/** One model around an attention layer for attention_reference.py to build, fill with seeded weights and run. */
export interface AttentionCase {
  id: string;
  class_name: "MultiHeadAttention" | "Attention" | "AdditiveAttention";
  config: Record<string, unknown>;
  /** The model's inputs (batch left out): float sequences, ids through Embedding(mask_zero) when `vocab` is set, or an attention mask of 0/1 (`int32`). */
  inputs: { shape: number[]; dtype?: "float32" | "int32"; vocab?: number; dim?: number; padding?: number[] }[];
  /** Which inputs the layer is called with (by index), and the call's flags. */
  call: { query?: number; value?: number; key?: number; attention_mask?: number; inputs?: number[]; use_causal_mask?: boolean; return_attention_scores?: boolean };
  batch: number;
  seed: number;
}

export interface AttentionReference {
  config: KerasModelConfig;
  weights: ModelWeights;
  weightNames: Record<string, string[]>;
  inputs: NDArray[];
  eager: NDArray<"float32">[];
  function: NDArray<"float32">[];
  session: NDArray<"float32">[];
}

interface Wire {
  shape: number[];
  dtype: string;
  data: number[];
}

const script = fileURLToPath(new URL("attention_reference.py", import.meta.url));
const python = fileURLToPath(new URL("../../.venv/bin/python", import.meta.url));

const array = (a: Wire): NDArray =>
  a.dtype === "int32" ? ndarray("int32", a.shape, Int32Array.from(a.data)) : a.dtype === "bool" ? ndarray("bool", a.shape, Uint8Array.from(a.data)) : ndarray("float32", a.shape, Float32Array.from(a.data));
const f32 = (a: Wire) => array(a) as NDArray<"float32">;

/** Runs real Keras 3 (the project's venv) on the cases in one Python process (`env`: extra variables). */
export function attentionReference(cases: AttentionCase[], env: Record<string, string> = {}): Map<string, AttentionReference> {
  const run = spawnSync(python, [script], { input: JSON.stringify(cases), maxBuffer: 1 << 28, encoding: "utf8", env: { ...process.env, ...env } });
  if (run.status !== 0) throw new Error(`attention_reference.py failed (${run.status}):\n${run.stderr}`);
  const results = JSON.parse(run.stdout) as Record<string, unknown>[];
  return new Map(
    results.map((r) => [
      r["id"] as string,
      {
        config: r["config"] as KerasModelConfig,
        weights: Object.fromEntries(Object.entries(r["weights"] as Record<string, Wire[]>).map(([k, ws]) => [k, ws.map(f32)])),
        weightNames: r["weight_names"] as Record<string, string[]>,
        inputs: (r["inputs"] as Wire[]).map(array),
        eager: (r["eager"] as Wire[]).map(f32),
        function: (r["function"] as Wire[]).map(f32),
        session: (r["session"] as Wire[]).map(f32),
      },
    ]),
  );
}

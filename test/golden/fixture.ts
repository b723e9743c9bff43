import { readFileSync } from "node:fs";

/** An array of the fixture: shape, dtype and row-major values. */
export interface Arr {
  shape: number[];
  dtype: "float32" | "bool";
  data: (number | boolean)[];
}

/** One assertion of Keras's own layer tests, as extract_keras_goldens.py recorded it. */
export interface GoldenCase {
  id: string;
  source: { repository: string; version: string; file: string; test: string; line: number };
  class_name: string;
  config: Record<string, unknown>;
  weights: { name: string; shape: number[]; fill?: number; data?: number[] }[];
  inputs: { sequences: Arr; initial_state: Arr[] | null; mask: Arr | null };
  expected: Arr & { output: number; batch_index?: number };
  tolerance: { atol: number; rtol: number };
}

/** Keras's own RNN tests' cases and literal expected values (keras-team/keras 3.15.1), for both halves. */
export const GOLDEN_CASES: readonly GoldenCase[] = (
  JSON.parse(readFileSync(new URL("keras-layer-tests.json", import.meta.url), "utf8")) as { cases: GoldenCase[] }
).cases;

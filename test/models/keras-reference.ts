import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { TensorflowClient } from "../../src/client.js";
import type { NDArray } from "../../src/index.js";

/** A model Keras itself saved, the inputs it was run on, and what Keras's own `model.predict` gave. */
export interface KerasReference {
  path: string;
  inputs: NDArray[];
  expected: NDArray;
  /** Seconds Keras took to build, save and predict it (TensorFlow's import not included). */
  kerasSeconds: number;
}

/**
 * Runs each body (Python that binds a one-output Keras model to `m`; `keras`, `L` = keras.layers and
 * `np` are in scope) with Keras's random seed set to 0, saves `m` as DIR/NAME.keras, and records Keras's own `model.predict` on seeded
 * inputs (floats uniform in [-1, 1), int ids in [1, 10)) in DIR/NAME.npz, as a user's training script
 * would leave them. One Python process for all of them: TensorFlow's import is paid once.
 */
export async function kerasReferences(client: TensorflowClient, dir: string, bodies: Record<string, string>): Promise<Record<string, KerasReference>> {
  const script = `import json, os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
import numpy as np
L = keras.layers
for name, body in json.loads(sys.argv[1]).items():
    started = time.perf_counter()
    keras.utils.set_random_seed(0)  # the same weights every run: a failure reproduces
    scope = {"keras": keras, "L": L, "np": np}
    exec(body, scope)
    m = scope["m"]
    m.save(os.path.join(sys.argv[2], name + ".keras"))
    rng = np.random.default_rng(0)
    xs = [rng.integers(1, 10, [2, *t.shape[1:]]).astype("int32") if t.dtype == "int32" else rng.uniform(-1, 1, [2, *t.shape[1:]]).astype("float32") for t in m.inputs]
    expected = m.predict(xs, verbose=0)
    np.savez(os.path.join(sys.argv[2], name + ".npz"), expected=expected, seconds=time.perf_counter() - started, **{f"x{i}": x for i, x in enumerate(xs)})
`;
  execFileSync(".venv/bin/python", ["-c", script, JSON.stringify(bodies), dir], { stdio: ["ignore", "ignore", "pipe"] });
  const out: Record<string, KerasReference> = {};
  for (const name of Object.keys(bodies)) {
    const arrays = await client.loadNpz(join(dir, `${name}.npz`));
    const inputs = Object.keys(arrays).filter((k) => /^x\d+$/.test(k)).sort().map((k) => arrays[k]!);
    out[name] = { path: join(dir, `${name}.keras`), inputs, expected: arrays.expected!, kerasSeconds: Number(arrays.seconds!.data[0]) };
  }
  return out;
}

/** The largest absolute difference between two float arrays of the same shape (NaN if either has one). */
export function maxAbsDiff(a: NDArray, b: NDArray): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shapes differ: ${a.shape} vs ${b.shape}`);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return worst;
}

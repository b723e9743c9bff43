import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NDArray, ndarray } from "../../src/index.js";
import { REFERENCE_MODELS, compareArrays, randomModel, randomWeights, seededModelInputs } from "../../src/entry/parity.js";
import type { KerasModelConfig } from "../../src/models/config.js";
import { sharedBridge } from "../helpers.js";

// Every model of the model sweep (its reference models and its 300 random architectures), saved by Keras as
// a .keras file: bridge.loadModel + predict against Keras's own load_model + predict on the same inputs.
// Part of `make test-applications`; TFBRIDGE_SWEEP_MODELS=N runs the first N random architectures only.
const RANDOM = Number(process.env["TFBRIDGE_SWEEP_MODELS"] ?? 300);
const MODELS: [string, () => KerasModelConfig][] = [
  ...Object.entries(REFERENCE_MODELS),
  ...Array.from({ length: RANDOM }, (_, i) => [`random-0-${i}`, () => randomModel(0, i)] as [string, () => KerasModelConfig]),
];

/** An .npy file (format 1.0) of a float32 or int32 array, for Keras's side to read. */
function writeNpy(path: string, x: NDArray): void {
  const descr = x.dtype === "float32" ? "<f4" : x.dtype === "int32" ? "<i4" : x.dtype === "int64" ? "<i8" : null;
  if (!descr) throw new Error(`no .npy writer for ${x.dtype}`);
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${x.shape.join(", ")}${x.shape.length === 1 ? "," : ""}), }`;
  header += " ".repeat(63 - ((header.length + 10) % 64)) + "\n";
  const prefix = Buffer.concat([Buffer.from([0x93]), Buffer.from("NUMPY"), Buffer.from([1, 0]), Buffer.alloc(2)]);
  prefix.writeUInt16LE(header.length, 8);
  const data = x.data as Float32Array;
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, "latin1"), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

describe("every model of the model sweep: bridge.loadModel + predict equals Keras's load_model + predict", () => {
  const bridge = sharedBridge();
  let dir = "";
  const inputs = new Map<string, NDArray[]>();
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tfbridge-sweep-models-"));
    for (const [k, [name, config]] of MODELS.entries()) {
      await using probe = await bridge().model(config(), { seed: k });
      await using handle = await bridge().model(config(), { weights: randomWeights(probe.info, k) });
      await handle.save(join(dir, `${name}.keras`));
      const xs = seededModelInputs(handle.config, handle.inputs, 3, k);
      xs.forEach((x, i) => writeNpy(join(dir, `${name}.x${i}.npy`), x));
      inputs.set(name, xs);
    }
    const script = `import glob, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, numpy as np
for path in sys.argv[2:]:
    stem = path[: -len(".keras")]
    m = keras.saving.load_model(path, safe_mode=True)
    xs = [np.load(f) for f in sorted(glob.glob(stem + ".x*.npy"))]
    ys = m.predict(xs, verbose=0)
    for i, y in enumerate(ys if isinstance(ys, list) else [ys]):
        np.save(f"{stem}.y{i}.npy", y.astype(np.float32))
`;
    execFileSync(".venv/bin/python", ["-c", script, dir, ...MODELS.map(([name]) => join(dir, `${name}.keras`))], { stdio: ["ignore", "ignore", "pipe"] });
  }, 900_000);

  it.each(MODELS.map(([name]) => name))("%s", async (name) => {
    await using handle = await bridge().loadModel(join(dir, `${name}.keras`));
    const { outputs, names } = await handle.predict(inputs.get(name)!);
    names.forEach((output, i) => {
      const bytes = readFileSync(join(dir, `${name}.y${i}.npy`));
      const offset = 10 + bytes.readUInt16LE(8);
      const expected = ndarray("float32", [...outputs[output]!.shape], new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + bytes.length)));
      const comparison = compareArrays(outputs[output]!, expected, { atol: 1e-5, rtol: 0 });
      console.log(`${name} ${output}: max |worker Session - Keras predict| ${comparison.maxAbsError.toExponential(2)}`);
      expect(comparison.pass, `${name} ${output}: ${comparison.maxAbsError}`).toBe(true);
    });
  });
});

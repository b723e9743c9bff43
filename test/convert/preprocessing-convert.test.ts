import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertModel } from "../../src/index.js";
import { compareArrays, loadTfjsModel } from "../../src/entry/parity.js";
import { sharedBridge } from "../helpers.js";

const dir = mkdtempSync(join(tmpdir(), "tfbridge-convert-pre-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bridge = sharedBridge();

// An image model as a user saves it: an adapted Normalization (weights mean, variance, int64 count),
// augmentation layers, Resizing, the activation layers and a one-hot side input; Keras's own
// predict on the inputs is the reference.
execFileSync(
  ".venv/bin/python",
  [
    "-c",
    `import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, numpy as np
L = keras.layers
keras.utils.set_random_seed(4)
rng = np.random.default_rng(4)
image = keras.Input((7, 6, 3), name="image")
label = keras.Input((1,), dtype="int32", name="label")
norm = L.Normalization()
norm.adapt(rng.uniform(0, 255, (16, 7, 6, 3)).astype("float32"))
x = L.RandomFlip()(L.RandomZoom(0.2)(norm(image)))
x = L.PReLU(shared_axes=[1, 2])(L.Resizing(5, 5)(x))
x = L.Softmax(axis=[1, 2])(L.ReLU(max_value=3.0, negative_slope=0.05)(x))
x = L.Flatten()(x)
y = L.CategoryEncoding(4, output_mode="one_hot")(label)
out = L.Dense(3, activation="hard_silu")(L.Concatenate()([x, y]))
keras.Model([image, label], out).save(${JSON.stringify(join(dir, "image.keras"))})
xs = {"image": rng.uniform(0, 255, (2, 7, 6, 3)).astype("float32"), "label": np.array([[1], [3]], dtype="int32")}
np.savez(${JSON.stringify(join(dir, "image.npz"))}, **xs)
np.savez(${JSON.stringify(join(dir, "expected.npz"))}, expected=keras.models.load_model(${JSON.stringify(join(dir, "image.keras"))}).predict([xs["image"], xs["label"]], verbose=0))
# A Softmax on an unmasked branch beside a masked one: TF.js's executor walks the Concatenate's
# inputs last to first and hands the Softmax the Embedding's stale mask unless it is marked ignore_mask.
ids = keras.Input((6,), dtype="int32", name="ids")
feats = keras.Input((6, 6), name="feats")
masked = L.GlobalAveragePooling1D()(L.Dense(4)(L.Embedding(20, 4, mask_zero=True)(ids)))
plain = L.Flatten()(L.Softmax(name="unmasked_softmax")(feats))
branches = keras.Model([ids, feats], L.Concatenate()([plain, masked]))
branches.save(${JSON.stringify(join(dir, "branches.keras"))})
ys = {"ids": np.array([[3, 4, 5, 0, 0, 0], [1, 2, 3, 4, 5, 6]], dtype="int32"), "feats": rng.uniform(-2, 2, (2, 6, 6)).astype("float32")}
np.savez(${JSON.stringify(join(dir, "branches.npz"))}, **ys)
np.savez(${JSON.stringify(join(dir, "branches-expected.npz"))}, expected=branches.predict([ys["ids"], ys["feats"]], verbose=0))
`,
  ],
  { stdio: ["ignore", "ignore", "pipe"] },
);

describe("tfbridge convert with the preprocessing and activation layers", () => {
  it("writes a model that stock tf.loadLayersModel runs as Keras's predict does, on tfjs-node and the JS CPU backend", { timeout: 240_000 }, async () => {
    const out = join(dir, "image");
    const result = await convertModel(join(dir, "image.keras"), out, { bridge: bridge(), inputs: join(dir, "image.npz") });
    expect(result.ok).toBe(true);
    expect(result.customLayers).toEqual(expect.arrayContaining(["TfbridgeNormalization", "TfbridgeIdentity", "TfbridgeResizing", "TfbridgeSoftmax", "TfbridgeCategoryEncoding"]));
    const inputs = await bridge().loadNpz(join(dir, "image.npz"));
    const { expected } = await bridge().loadNpz(join(dir, "expected.npz"));
    for (const backend of ["tensorflow", "cpu"] as const) {
      const twin = await loadTfjsModel(join(out, "model.json"), { backend });
      try {
        const [stock] = await twin.predictStock([inputs.image!, inputs.label!]);
        const close = compareArrays(stock!, expected!, { atol: 1e-5, rtol: 0 });
        expect(close.pass, `${backend}: ${close.maxAbsError}`).toBe(true);
      } finally {
        await twin.dispose();
      }
    }
  });

  it("marks a Softmax on an unmasked branch ignore_mask, so stock predict does not hand it another branch's mask", { timeout: 240_000 }, async () => {
    const out = join(dir, "branches");
    const result = await convertModel(join(dir, "branches.keras"), out, { bridge: bridge(), inputs: join(dir, "branches.npz") });
    expect(result.ok).toBe(true);
    const softmax = (JSON.parse(readFileSync(join(out, "model.json"), "utf8")) as { modelTopology: { config: { layers: { name: string; config: Record<string, unknown> }[] } } }).modelTopology.config.layers.find((l) => l.name === "unmasked_softmax")!;
    expect(softmax.config["ignore_mask"]).toBe(true);
    const inputs = await bridge().loadNpz(join(dir, "branches.npz"));
    const { expected } = await bridge().loadNpz(join(dir, "branches-expected.npz"));
    const twin = await loadTfjsModel(join(out, "model.json"));
    try {
      const [stock] = await twin.predictStock([inputs.ids!, inputs.feats!]);
      expect(compareArrays(stock!, expected!, { atol: 1e-6, rtol: 0 }).pass).toBe(true);
    } finally {
      await twin.dispose();
    }
  });
});

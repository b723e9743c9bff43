import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertModel } from "../../src/index.js";
import { sharedBridge } from "../helpers.js";

const dir = mkdtempSync(join(tmpdir(), "tfbridge-convert-image-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bridge = sharedBridge();

// A small image model written by Keras itself, using every 2-D class whose twin is tfbridge's own.
execFileSync(
  ".venv/bin/python",
  [
    "-c",
    `import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
L = keras.layers
keras.utils.set_random_seed(5)
x = keras.Input((9, 10, 3), name="image")
y = L.DepthwiseConv2D(3, dilation_rate=2, padding="same", depth_multiplier=2)(x)
y = L.SeparableConv2D(4, 2, dilation_rate=(2, 1), activation="relu")(y)
y = L.Conv2D(4, 2, dilation_rate=2, padding="same")(y)
y = L.ZeroPadding2D(((1, 0), (0, 2)))(L.MaxPooling2D()(y))
y = L.UpSampling2D((2, 2), interpolation="bilinear")(L.Cropping2D(((0, 1), (1, 0)))(y))
y = L.Conv2DTranspose(3, 3, strides=2, padding="same")(L.AveragePooling2D(2, padding="same")(y))
y = L.Conv2D(2, 1)(L.GlobalAveragePooling2D(keepdims=True)(y))
keras.Model(x, L.Dense(3, activation="softmax")(L.Flatten()(L.GlobalMaxPooling2D(keepdims=True)(y)))).save(${JSON.stringify(join(dir, "image.keras"))})
`,
  ],
  { stdio: ["ignore", "ignore", "pipe"] },
);

describe("convert an image model", () => {
  it("writes model.json with tfbridge's 2-D classes (dilation, keepdims and interpolation kept) that loads and agrees with Keras", { timeout: 300_000 }, async () => {
    const out = join(dir, "image");
    const result = await convertModel(join(dir, "image.keras"), out, { bridge: bridge() });
    expect(result.ok, JSON.stringify(result.report.layers.filter((l) => !l.pass))).toBe(true);
    expect(result.customLayers).toEqual([
      "TfbridgeConv2D",
      "TfbridgeDepthwiseConv2D",
      "TfbridgeGlobalAveragePooling2D",
      "TfbridgeGlobalMaxPooling2D",
      "TfbridgeSeparableConv2D",
      "TfbridgeUpSampling2D",
    ]);
    const layers = JSON.parse(readFileSync(join(out, "model.json"), "utf8")).modelTopology.config.layers as { class_name: string; config: Record<string, unknown> }[];
    const config = (cls: string) => layers.find((l) => l.class_name === cls)!.config;
    expect(config("TfbridgeSeparableConv2D")["dilation_rate"]).toEqual([2, 1]);
    expect(config("TfbridgeDepthwiseConv2D")["dilation_rate"]).toEqual([2, 2]);
    expect(config("TfbridgeGlobalAveragePooling2D")["keepdims"]).toBe(true);
    expect(config("TfbridgeUpSampling2D")["interpolation"]).toBe("bilinear");
    for (const output of result.report.modelOutputs) expect(output.stockPredict!.maxUlp, output.name).toBe(0);
  });
});

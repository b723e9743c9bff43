import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TfjsUnsupportedModelError } from "../../src/index.js";
import { runModelParity } from "../../src/entry/parity.js";
import { MAX_MESSAGE_CHARS } from "../../src/models/refusal.js";
import { sharedBridge } from "../helpers.js";
import { type KerasReference, kerasReferences, maxAbsDiff } from "../models/keras-reference.js";

// Keras Applications (weights=None, small inputs) loaded with bridge.loadModel: the worker's predict
// against Keras's own. Minutes, not seconds: `make test-applications` runs it (its own vitest config);
// make test's config leaves this folder out.
const APPLICATIONS: Record<string, string> = {
  MobileNetV2: "keras.applications.MobileNetV2(input_shape=(64, 64, 3), alpha=0.35, weights=None)",
  ResNet50: "keras.applications.ResNet50(input_shape=(32, 32, 3), weights=None)",
  EfficientNetB0: "keras.applications.EfficientNetB0(input_shape=(32, 32, 3), weights=None)",
  DenseNet121: "keras.applications.DenseNet121(input_shape=(32, 32, 3), weights=None)",
  VGG16: "keras.applications.VGG16(input_shape=(32, 32, 3), weights=None)",
  MobileNetV3Small: "keras.applications.MobileNetV3Small(input_shape=(32, 32, 3), weights=None)",
  ConvNeXtTiny: "keras.applications.ConvNeXtTiny(input_shape=(32, 32, 3), weights=None)",
  NASNetMobile: "keras.applications.NASNetMobile(input_shape=(32, 32, 3), weights=None)",
};
const ATOL = 1e-5;

describe("Keras Applications run in the worker as Keras runs them", () => {
  const bridge = sharedBridge();
  let dir = "";
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));
  let refs: Record<string, KerasReference>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tfbridge-applications-"));
    refs = await kerasReferences(bridge(), dir, Object.fromEntries(Object.entries(APPLICATIONS).map(([name, call]) => [name, `m = ${call}`])));
  }, 900_000);

  for (const name of Object.keys(APPLICATIONS)) {
    it(`${name}: loadModel + predict equals Keras's predict; parity passes, or no TF.js twin, said briefly`, { timeout: 600_000 }, async () => {
      const ref = refs[name]!;
      const started = performance.now();
      await using handle = await bridge().loadModel(ref.path);
      const { outputs, names } = await handle.predict(ref.inputs);
      const worst = maxAbsDiff(outputs[names[0]!]!, ref.expected);
      console.log(`${name}: max |worker Session - Keras predict| ${worst.toExponential(2)}; Keras build + save + predict ${ref.kerasSeconds.toFixed(1)} s, worker load + Session predict ${((performance.now() - started) / 1000).toFixed(1)} s`);
      expect(worst).toBeLessThanOrEqual(ATOL);
      if (handle.tfjs.supported) {
        // All of its classes have a twin (ResNet50, VGG16 since the 2-D family): every layer exact or explained.
        const report = await runModelParity(handle, { skipCpu: true });
        expect(report.verdicts.fail, report.layers.filter((l) => !l.pass).map((l) => `${l.name}: ${l.reason}`).join("; ")).toBe(0);
        expect(report.passed).toBe(true);
        return;
      }
      const refusal = await runModelParity(handle).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(TfjsUnsupportedModelError);
      expect((refusal as Error).message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
      // Each missing class once with its count (Conv2D, the most frequent, has a twin now).
      expect((refusal as Error).message).toMatch(/no TF\.js twin for \w+ ×\d+/);
    });
  }
});

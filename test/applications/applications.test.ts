import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TfjsUnsupportedModelError } from "../../src/index.js";
import { runModelParity } from "../../src/entry/parity.js";
import { sharedBridge } from "../helpers.js";
import { type KerasReference, kerasReferences, maxAbsDiff } from "../models/keras-reference.js";
import { APPLICATIONS, REFUSED } from "./applications.js";
import { expectEndToEnd } from "./end-to-end.js";

// Every Keras Application of issue 20, the transfer-learning model and the Transformer, end to end.
// Minutes, not seconds: `make test-applications` runs it (its own vitest config); make test runs the
// small ones (test/models/small-applications.test.ts).
const bridge = sharedBridge();
const dir = mkdtempSync(join(tmpdir(), "tfbridge-applications-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let refs: Record<string, KerasReference>;
beforeAll(async () => {
  refs = await kerasReferences(bridge(), dir, APPLICATIONS);
}, 1_800_000);

describe("the Keras Applications in the worker, the TF.js twin and converted files", () => {
  for (const name of Object.keys(APPLICATIONS).filter((n) => !(n in REFUSED))) {
    it(`${name}: worker = Keras; parity and convert pass; stock TF.js agrees on tfjs-node and the JS CPU backend`, { timeout: 1_800_000 }, () => expectEndToEnd(bridge(), name, refs[name]!, dir));
  }
  for (const [name, reason] of Object.entries(REFUSED)) {
    it(`${name}: worker = Keras; the twin refuses it by layer and argument, never a different model`, { timeout: 600_000 }, async () => {
      await using handle = await bridge().loadModel(refs[name]!.path);
      expect(maxAbsDiff((await handle.predict(refs[name]!.inputs)).outputs[handle.outputs[0]!.name]!, refs[name]!.expected)).toBeLessThanOrEqual(1e-5);
      const problems = handle.tfjs.supported ? [] : handle.tfjs.problems;
      expect(problems.length).toBeGreaterThan(0);
      for (const p of problems) expect(`${p.layer} ${p.field}: ${p.reason}`).toMatch(reason);
      await expect(runModelParity(handle)).rejects.toThrow(TfjsUnsupportedModelError);
    });
  }
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { sharedBridge } from "../helpers.js";
import { type KerasReference, kerasReferences } from "../models/keras-reference.js";
import { APPLICATIONS } from "./applications.js";
import { expectEndToEnd } from "./end-to-end.js";

// Every Keras Application of issue 20, the transfer-learning model and the Transformer, end to end.
// Minutes, not seconds: `make test-applications` runs it (its own vitest config); make test runs the
// small ones (test/models/small-applications.test.ts).
const bridge = sharedBridge();
const dir = mkdtempSync(join(tmpdir(), "tfbridge-applications-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// TFBRIDGE_APPLICATIONS=ConvNeXtTiny,NASNetMobile make test-applications runs only those.
const only = process.env.TFBRIDGE_APPLICATIONS?.split(",").filter(Boolean);
const unknown = (only ?? []).filter((n) => !(n in APPLICATIONS));
if (unknown.length) throw new Error(`TFBRIDGE_APPLICATIONS: no application ${unknown.join(", ")}; known: ${Object.keys(APPLICATIONS).join(", ")}`);
const selected = Object.fromEntries(Object.entries(APPLICATIONS).filter(([n]) => !only || only.includes(n)));

let refs: Record<string, KerasReference>;
beforeAll(async () => {
  refs = await kerasReferences(bridge(), dir, selected);
}, 1_800_000);

describe("the Keras Applications in the worker, the TF.js twin and converted files", () => {
  for (const name of Object.keys(selected)) {
    it(`${name}: worker = Keras; parity and convert pass; stock TF.js agrees on tfjs-node and the JS CPU backend`, { timeout: 1_800_000 }, () => expectEndToEnd(bridge(), name, refs[name]!, dir));
  }
});

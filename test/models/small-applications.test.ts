import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { APPLICATIONS, SMALL_APPLICATIONS } from "../applications/applications.js";
import { expectEndToEnd } from "../applications/end-to-end.js";
import { sharedBridge } from "../helpers.js";
import { type KerasReference, kerasReferences } from "./keras-reference.js";

// MobileNetV2 and a Transformer text classifier end to end in make test; `make test-applications` runs
// every Keras Application and the transfer-learning model (its base nested) the same way.
const bridge = sharedBridge();
const dir = mkdtempSync(join(tmpdir(), "tfbridge-small-applications-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let refs: Record<string, KerasReference>;
beforeAll(async () => {
  refs = await kerasReferences(bridge(), dir, Object.fromEntries(SMALL_APPLICATIONS.map((name) => [name, APPLICATIONS[name]!])));
}, 300_000);

describe("users' own models end to end: an image classifier and a Transformer", () => {
  for (const name of SMALL_APPLICATIONS) {
    it(`${name}: worker = Keras; parity and convert pass; stock TF.js agrees on tfjs-node and the JS CPU backend`, { timeout: 600_000 }, () => expectEndToEnd(bridge(), name, refs[name]!, dir));
  }
});

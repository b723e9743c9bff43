import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type LstmSpec, lstmModel } from "../../src/index.js";
import { seededInput } from "../../src/random.js";
import { compareArrays } from "../../src/parity/compare.js";
import { SavedModelError, loadTfjsSavedModel } from "../../src/tfjs/savedmodel.js";
import { sharedBridge } from "../helpers.js";

const bridge = sharedBridge();
const scratch = mkdtempSync(join(tmpdir(), "tfbridge-savedmodel-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("a SavedModel written by the worker (Keras's model.export), run by tfjs-node as one graph", () => {
  it.each<LstmSpec>([
    { units: 16, inputShape: [20, 4], returnSequences: true },
    // Sigmoid in both slots: the exported graph gets the same Grappler rewrite as the Session.
    { units: 5, inputShape: [8, 3], activation: "sigmoid", returnState: true, goBackwards: true },
  ])("matches the Python Session bit for bit: %o", async (spec) => {
    const { config, resolved } = lstmModel(spec);
    await using handle = await bridge().model(config, { seed: resolved.seed });
    const x = seededInput([3, ...spec.inputShape], 7);
    const session = await handle.predict(x);
    const path = await handle.exportSavedModel(join(scratch, `lstm-${spec.units}`));
    const model = await loadTfjsSavedModel(path);
    const outputs = await model.predict({ input: x });
    model.dispose();
    expect(outputs).toHaveLength(session.names.length);
    session.names.forEach((name, i) => {
      const c = compareArrays(outputs[i]!, session.outputs[name]!, { atol: 0, rtol: 0 });
      expect(c.comparable).toBe(true);
      expect(c.maxUlp, name).toBe(0);
    });
  });

  it("asked for outputs its signature does not give, run throws SavedModelError", async () => {
    const { config, resolved } = lstmModel({ units: 2, inputShape: [3, 1] });
    await using handle = await bridge().model(config, { seed: resolved.seed });
    const model = await loadTfjsSavedModel(await handle.exportSavedModel(join(scratch, "one-output")), ["output", "h", "c"]);
    await expect(model.run(seededInput([1, 3, 1], 1))).rejects.toThrow(SavedModelError);
    model.dispose();
  });
});

import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { LstmSpec } from "../../src/index.js";
import { compareArrays } from "../../src/parity/compare.js";
import { seededInput } from "../../src/parity/engine.js";
import { SavedModelError, loadTfjsSavedModel } from "../../src/tfjs/savedmodel.js";
import { sharedBridge } from "../helpers.js";

const bridge = sharedBridge();

describe("a SavedModel written by the worker, run by tfjs-node as one graph", () => {
  it.each<LstmSpec>([
    { units: 16, inputShape: [20, 4], returnSequences: true },
    // A hoisted-sigmoid trap spec: the graph gets the same Grappler rewrite as the Session.
    { units: 5, inputShape: [8, 3], activation: "sigmoid", returnState: true, goBackwards: true },
  ])("matches the Python Session bit for bit: %o", async (spec) => {
    const x = seededInput([3, ...spec.inputShape], 7);
    const session = await bridge().runLstm(spec, x, { returnWeights: true });
    const path = await bridge().exportLstm({ ...spec, weights: session.weights });
    try {
      const names = spec.returnState ? ["output", "h", "c"] : ["output"];
      const model = await loadTfjsSavedModel(path, names);
      const out = await model.run(x);
      model.dispose();
      expect(Object.keys(out).sort()).toEqual([...names].sort());
      for (const name of names) {
        const c = compareArrays(out[name]!, session[name as "output" | "h" | "c"]!, { atol: 0, rtol: 0 });
        expect(c.comparable).toBe(true);
        expect(c.maxUlp, name).toBe(0);
      }
    } finally {
      rmSync(path, { recursive: true, force: true });
    }
  });

  it("asked for outputs its signature does not give, it throws SavedModelError", async () => {
    const path = await bridge().exportLstm({ units: 2, inputShape: [3, 1] });
    try {
      const model = await loadTfjsSavedModel(path, ["output", "h", "c"]);
      await expect(model.run(seededInput([1, 3, 1], 1))).rejects.toThrow(SavedModelError);
      model.dispose();
    } finally {
      rmSync(path, { recursive: true, force: true });
    }
  });
});

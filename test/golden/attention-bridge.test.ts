import { describe, expect, it } from "vitest";
import { ATTENTION_GOLDEN_CASES, attentionCaseModel, attentionWeights } from "./attention-fixture.js";
import { compareArrays } from "../../src/parity/compare.js";
import { type NDArray, ndarray } from "../../src/wire/ndarray.js";
import { sharedBridge } from "../helpers.js";

// The same cases the TF.js half replays (keras-attention-tests.test.ts), here through the Python worker,
// in float32 as there (Keras's MultiHeadAttention test runs float16, within its atol 1e-2).
const bridge = sharedBridge();

describe("Keras's own attention golden values through the bridge, in all three modes", () => {
  it.each(ATTENTION_GOLDEN_CASES.map((c) => [c.id, c] as const))("%s", async (_, c) => {
    const { config, inputs, output } = attentionCaseModel(c, "float32");
    await using handle = await bridge().model(config, { weights: attentionWeights(c) });
    const expected = ndarray("float32", c.expected.shape, Float32Array.from(c.expected.data as number[]));
    const results: NDArray[] = [];
    for (const mode of ["session", "eager", "function"] as const) {
      const { outputs } = await handle.predict(inputs, { mode, outputs: "layers" });
      const got = outputs[output]!;
      const comparison = compareArrays(got, expected, c.tolerance);
      expect(comparison.pass, `${mode}: max abs ${comparison.maxAbsError} (Keras's tolerance ${JSON.stringify(c.tolerance)})`).toBe(true);
      results.push(got);
    }
    expect(results[1]!.data).toEqual(results[0]!.data);
    expect(results[2]!.data).toEqual(results[0]!.data);
  });
});

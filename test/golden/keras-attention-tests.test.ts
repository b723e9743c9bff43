import { describe, expect, it } from "vitest";
import { ATTENTION_GOLDEN_CASES, attentionCaseModel, attentionWeights } from "./attention-fixture.js";
import { checkModelConfig } from "../../src/models/schema.js";
import { compareArrays } from "../../src/parity/compare.js";
import { buildTfjsModel } from "../../src/tfjs/model.js";
import { ndarray } from "../../src/wire/ndarray.js";

describe("Keras 3's own attention layer tests, reproduced by the TF.js twin", () => {
  it("the fixture covers Attention (dot, concat), AdditiveAttention, masks, scores and MultiHeadAttention", () => {
    const classes = new Set(ATTENTION_GOLDEN_CASES.map((c) => c.class_name));
    expect([...classes].sort()).toEqual(["AdditiveAttention", "Attention", "MultiHeadAttention"]);
    expect(new Set(ATTENTION_GOLDEN_CASES.filter((c) => c.class_name === "Attention").map((c) => c.config["score_mode"]))).toEqual(new Set(["dot", "concat"]));
    expect(ATTENTION_GOLDEN_CASES.some((c) => c.inputs.mask)).toBe(true);
    expect(ATTENTION_GOLDEN_CASES.some((c) => c.expected.output === 1)).toBe(true);
    for (const c of ATTENTION_GOLDEN_CASES) expect(c.source.file).toMatch(/^keras\/src\/layers\/attention\/\w+_test\.py$/);
  });

  for (const backend of ["tensorflow", "cpu"] as const) {
    describe(`on the ${backend} backend`, () => {
      for (const c of ATTENTION_GOLDEN_CASES) {
        it(`${c.id}: within Keras's own tolerance`, async () => {
          // TF.js computes in float32; Keras's MultiHeadAttention test runs float16 within atol 1e-2.
          const { config, inputs, output } = attentionCaseModel(c, "float32");
          const twin = await buildTfjsModel(checkModelConfig(config), attentionWeights(c), { backend });
          const [got] = await twin.predict(inputs, [{ name: output, layer: "golden", class: c.class_name, shape: c.expected.shape, dtype: "float32" }]);
          await twin.dispose();
          const expected = ndarray("float32", c.expected.shape, Float32Array.from(c.expected.data as number[]));
          const cmp = compareArrays(got!, expected, c.tolerance);
          expect(cmp.shape.actual).toEqual(cmp.shape.expected);
          expect(cmp.pass, `max abs error ${cmp.maxAbsError} (atol ${c.tolerance.atol}, rtol ${c.tolerance.rtol})`).toBe(true);
        });
      }
    });
  }
});

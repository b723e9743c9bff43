import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ModelError, type ModelProblem } from "../../src/errors.js";
import { checkModelConfig } from "../../src/models/schema.js";

interface Case {
  name: string;
  config: unknown;
  accepted: boolean;
  problems?: Pick<ModelProblem, "layer" | "class" | "field">[];
}

// The same cases python/tests/test_layers_cases.py runs through the worker's schema: the two halves
// must accept and refuse alike, naming the same layers and fields.
const { cases } = JSON.parse(readFileSync(new URL("../../protocol/layers-cases.json", import.meta.url), "utf8")) as { cases: Case[] };

describe("protocol/layers-cases.json in TypeScript", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    if (c.accepted) {
      expect(() => checkModelConfig(c.config)).not.toThrow();
      return;
    }
    const error = (() => {
      try {
        checkModelConfig(c.config);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ModelError);
    const problems = ((error as ModelError).details.problems ?? []).map(({ layer, class: cls, field }) => ({ layer, class: cls, ...(field === undefined ? {} : { field }) }));
    expect(problems).toEqual(c.problems);
  });
});

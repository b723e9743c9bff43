import { describe, expect, it } from "vitest";
import { closest } from "../../src/cli/suggest.js";

describe("closest: the word a typo most likely meant", () => {
  it.each([
    ["unit", ["units", "timesteps"], "units"],
    ["modle", ["model", "lstm", "sweep"], "model"],
    ["jsno", ["json", "force"], "json"],
    ["prity", ["parity", "convert"], "parity"],
    ["time", ["timesteps", "units"], "timesteps"],
    ["bogus", ["units", "json"], undefined],
    ["x", ["units"], undefined],
  ])("%s among %j → %s", (word, candidates, expected) => {
    expect(closest(word, candidates)).toBe(expected);
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LAYER_RULES } from "../../src/models/schema.js";

// docs/parity.md's layer table is written by `tfbridge parity --model-sweep --count 300 --markdown FILE`,
// not by hand; this keeps it from falling behind protocol/layers.json.
const page = readFileSync(new URL("../../docs/parity.md", import.meta.url), "utf8");
const table = /<!-- layer-table:begin -->\n([\s\S]*?)<!-- layer-table:end -->/.exec(page)?.[1] ?? "";

describe("docs/parity.md's layer table", () => {
  it("has one row per supported layer, each covered by the sweep", () => {
    const rows = table.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| layer |"));
    const classes = rows.map((r) => r.split("|")[1]!.trim().split(" ")[0]);
    expect(classes).toEqual(Object.keys(LAYER_RULES));
    for (const row of rows) expect(row).not.toMatch(/not covered by this sweep/);
  });
});

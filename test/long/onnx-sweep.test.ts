import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type OnnxSweepSummary, REFERENCE_MODELS } from "../../src/entry/parity.js";
import { tfbridge } from "../cli/run.js";

// The ONNX sweep's command over the reference models and two random ones (a minute here); `make sweep`
// runs 300 for docs/onnx.md's table.
const dir = mkdtempSync(join(tmpdir(), "tfbridge-onnx-sweep-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tfbridge parity sweep --runtime onnx", () => {
  it("runs the reference models and random ones through tf2onnx and tables each layer class's distance", { timeout: 300_000 }, async () => {
    const table = join(dir, "onnx-table.md");
    const run = await tfbridge("parity", "sweep", "--runtime", "onnx", "--count", "2", "--markdown", table, "--json");
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as OnnxSweepSummary;
    expect(summary.failed).toBe(0);
    expect(summary.models).toBe(Object.keys(REFERENCE_MODELS).length + 2);
    expect(summary.classes.LSTM!.outputs).toBeGreaterThan(0);
    for (const [name, c] of Object.entries(summary.classes)) expect(c.worstShareOfBound, name).toBeLessThanOrEqual(1);
    const markdown = readFileSync(table, "utf8");
    expect(markdown).toMatch(/^\| layer class \| outputs \| bit-identical/);
    expect(markdown).toContain("| LSTM |");
  });
});

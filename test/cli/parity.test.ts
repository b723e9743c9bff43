import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type SweepSummary, sweepCases } from "../../src/parity/sweep.js";
import { tfbridge } from "./run.js";

describe("tfbridge parity", () => {
  it("compares one spec given as flags and prints the table and verdict", async () => {
    const { stdout, code } = await tfbridge("parity", "--units", "8", "--timesteps", "12", "--features", "3", "--return-state", "--batch", "4");
    expect(code).toBe(0);
    expect(stdout).toMatch(/LSTM units=8 input=\[4,12,3\]/);
    expect(stdout).toMatch(/tfjs-node\s+h\s+pass\s+0\/0\s+0\s+0\s+0\s+0\/32/);
    expect(stdout).toMatch(/verdict: PASS/);
  });

  it("--json gives the report as data", async () => {
    const { stdout } = await tfbridge("parity", "--units", "4", "--json");
    const report = JSON.parse(stdout);
    expect(report.spec).toMatchObject({ units: 4, inputShape: [10, 1], recurrentActivation: "sigmoid" });
    expect(report.runtimes.map((r: { runtime: string }) => r.runtime)).toEqual(["tfjs-node", "tfjs-cpu", "tfjs-node-savedmodel"]);
  });

  it("reads a spec from a JSON file, flags overriding it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfbridge-spec-"));
    const file = join(dir, "spec.json");
    writeFileSync(file, JSON.stringify({ units: 6, inputShape: [5, 2], activation: "relu", goBackwards: true }));
    const { stdout, code } = await tfbridge("parity", "--spec", file, "--units", "7", "--json");
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).spec).toMatchObject({ units: 7, inputShape: [5, 2], activation: "relu", goBackwards: true });
  });

  it("a bad flag names the field and exits 2 (a bad command line), before any worker starts", async () => {
    const { stderr, code } = await tfbridge("parity", "--activation", "gelu");
    expect(code).toBe(2);
    expect(stderr).toMatch(/^tfbridge parity: bad spec: activation: must be one of/);
    expect((await tfbridge("parity", "--units", "many")).stderr).toMatch(/--units must be a number/);
  });

  // 8 of the 64 specs (one per size, each with another of the 8 flag variants, a trap among them) keep
  // make test short; the full sweep is a command (`tfbridge parity --sweep`) the README reports on.
  it("--sweep --count 8 --json: tfjs-node bit-identical on every non-trap spec, JS CPU within 1e-5", { timeout: 600_000 }, async () => {
    const { stdout, stderr, code } = await tfbridge("parity", "--sweep", "--count", "8", "--json");
    const summary = JSON.parse(stdout) as SweepSummary;
    // stderr is a pipe here: progress comes as plain lines, one per spec, and nothing else (no TF logs).
    expect(stderr).not.toMatch(/\r/);
    const lines = stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(summary.specs);
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^parity sweep: ${i + 1}/${summary.specs} specs \\(\\d+\\.\\d s\\)$`)));
    expect(summary.backend).toBe("tensorflow");
    expect(summary.tensorflow).toMatch(/^2\.21\./);
    expect(summary.specs).toBe(8);
    const specs = summary.results.map((r) => r.spec);
    for (const flag of ["returnSequences", "returnState", "goBackwards"] as const) expect(new Set(specs.map((s) => s[flag]))).toEqual(new Set([true, false]));
    expect(new Set(specs.map((s) => `${s.units}x${s.inputShape}`)).size).toBe(new Set(sweepCases().map((c) => `${c.spec.units}x${c.spec.inputShape}`)).size);
    expect(summary.results).toHaveLength(summary.specs);
    expect(summary.traps).toBeGreaterThan(0);
    expect(summary.worstUlp).toBe(0);
    expect(summary.worstAbsError).toBe(0);
    expect(summary.cpuWorstAbsError).toBeLessThanOrEqual(1e-5);
    expect(summary.savedModelWorstUlp).toBe(0);
    expect(summary.failed).toBe(0);
    expect(code).toBe(0);
    for (const r of summary.results.filter((r) => r.trap)) {
      expect(r.reference).toBe("eager");
      expect(r.trap!.traps.every((t) => t.reason.length > 0 && t.matchedBy.length > 0)).toBe(true);
    }
  });
});

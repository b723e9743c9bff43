import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lstmCaseName, lstmSweepCases } from "../../src/parity/lstm-sweep.js";
import type { ModelSweepSummary } from "../../src/parity/model-sweep.js";
import { tfbridge } from "./run.js";

describe("tfbridge parity lstm: the seed's LSTM as a one-layer model on the model parity", () => {
  it("compares one spec given as flags and prints the layer table and verdict", async () => {
    const { stdout, code } = await tfbridge("parity", "lstm", "--units", "8", "--timesteps", "12", "--features", "3", "--return-state", "--batch", "4");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^PASS: model lstm units=8 inputShape=\[12,3\] activation=tanh recurrentActivation=sigmoid/);
    expect(stdout).toMatch(/lstm:2\s+LSTM/);
  });

  it("reads a spec from a JSON file, flags overriding it; --json gives the model report", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfbridge-spec-"));
    const file = join(dir, "spec.json");
    writeFileSync(file, JSON.stringify({ units: 6, inputShape: [5, 2], activation: "relu", goBackwards: true }));
    const { stdout, code } = await tfbridge("parity", "lstm", "--spec", file, "--units", "7", "--json");
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.model).toBe("lstm units=7 inputShape=[5,2] activation=relu recurrentActivation=sigmoid");
    expect(report.layers.map((l: { name: string }) => l.name)).toEqual(["lstm"]);
    expect(report.passed).toBe(true);
  });

  it("the form before subcommands (spec flags alone) still runs the lstm subcommand", async () => {
    const { stdout, code } = await tfbridge("parity", "--units", "4", "--json");
    expect(code).toBe(0);
    expect(JSON.parse(stdout).model).toMatch(/^lstm units=4 inputShape=\[10,1\]/);
  });

  it("a bad flag names the field and exits 2 (a bad command line), before any worker starts", async () => {
    const { stderr, code } = await tfbridge("parity", "lstm", "--activation", "gelu");
    expect(code).toBe(2);
    expect(stderr).toMatch(/^tfbridge parity: bad spec: activation: must be one of/);
    expect((await tfbridge("parity", "lstm", "--units", "many")).stderr).toMatch(/--units must be a number/);
    expect((await tfbridge("parity", "lstm", "--inputs", "x.npz")).stderr).toMatch(/^tfbridge parity: unknown option --inputs/);
    const unknown = await tfbridge("parity", "spec");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^tfbridge parity: unknown subcommand "spec" \(model, lstm or sweep\)/);
  });

  // 8 of the 64 specs (one per size, each with another of the 8 flag variants) keep make test short;
  // the full LSTM sweep is `make sweep`.
  it("sweep --lstm --count 8 --json: every spec passes, each difference explained", { timeout: 900_000 }, async () => {
    const { stdout, stderr, code } = await tfbridge("parity", "sweep", "--lstm", "--count", "8", "--json");
    const summary = JSON.parse(stdout) as ModelSweepSummary;
    // stderr is a pipe here: progress comes as plain lines, one per spec, and nothing else (no TF logs).
    expect(stderr).not.toMatch(/\r/);
    const lines = stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(8);
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^lstm sweep: ${i + 1}/8 lstm-u\\d+-t\\d+x\\d+-.* \\(\\d+\\.\\d s\\)$`)));
    expect(summary.models).toBe(8);
    const names = summary.reports.map((r) => r.model);
    const all = lstmSweepCases().map(lstmCaseName);
    names.forEach((n) => expect(all).toContain(n));
    expect(new Set(names.map((n) => n.split("-").slice(0, 3).join("-"))).size).toBe(8); // one per size
    for (const flag of ["seq", "state", "back"]) expect(names.some((n) => n.includes(`-${flag}-`))).toBe(true);
    expect(summary.failed).toBe(0);
    expect(summary.verdicts.fail).toBe(0);
    expect(summary.cpuWorstAbsError.all).toBeLessThanOrEqual(1e-5);
    expect(code).toBe(0);
  });
});

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const cli = ["--import", "tsx", new URL("../../src/cli/main.ts", import.meta.url).pathname];

describe("tfbridge demo", () => {
  it("--json reports the seed's three examples, in order, from a real TF 2.21 session", async () => {
    const { stdout } = await run(process.execPath, [...cli, "demo", "--json"]);
    const report = JSON.parse(stdout);
    expect(report.tensorflow).toMatch(/^2\.21\./);
    expect(report.keras).toMatch(/^3\./);
    expect(report.examples.map((e: { shape: number[] }) => e.shape)).toEqual([[1, 32], [2, 64], [3, 10, 64]]);
    for (const e of report.examples) {
      expect(e).toMatchObject({ dtype: "float32", mode: "session" });
      expect(e.first).toHaveLength(4);
    }
  });

  it("prints a readable table", async () => {
    const { stdout } = await run(process.execPath, [...cli, "demo"]);
    expect(stdout).toMatch(/TensorFlow 2\.21\.\d+ \(Keras 3\./);
    expect(stdout).toMatch(/shape \[3, 10, 64\]\s+float32\s+session/);
  });

  it("an unknown command exits 2 with usage", async () => {
    const error = await run(process.execPath, [...cli, "frobnicate"]).catch((e) => e);
    expect(error.code).toBe(2);
    expect(error.stderr).toMatch(/unknown command "frobnicate"/);
  });
});

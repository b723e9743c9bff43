import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REFERENCE_MODELS } from "../../src/parity/reference-models.js";
import { tfbridge } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "tfbridge-cli-models-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A .keras file and an .npz of inputs for it, both written by Keras and NumPy themselves. */
function kerasFileWithInputs(): { model: string; inputs: string } {
  const model = join(dir, "tagger.keras");
  const inputs = join(dir, "inputs.npz");
  const script = `import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, numpy as np
L = keras.layers
ids = keras.Input((6,), dtype="int32", name="ids")
x = L.Embedding(20, 4, mask_zero=True)(ids)
x = L.Bidirectional(L.GRU(3, return_sequences=True))(x)
m = keras.Model(ids, L.TimeDistributed(L.Dense(2, activation="softmax"))(x))
m.save(${JSON.stringify(model)})
np.savez(${JSON.stringify(inputs)}, ids=np.array([[3, 4, 5, 0, 0, 0], [1, 2, 3, 4, 5, 6]], dtype="int32"))
`;
  execFileSync(".venv/bin/python", ["-c", script], { stdio: ["ignore", "ignore", "pipe"] });
  return { model, inputs };
}

describe("tfbridge parity model FILE", () => {
  it("compares every layer of a .keras file on the given inputs; --json has the documented fields; --html writes the page", { timeout: 180_000 }, async () => {
    const { model, inputs } = kerasFileWithInputs();
    const { stdout, code } = await tfbridge("parity", "model", model, "--inputs", inputs, "--json");
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ model, passed: true, inputShapes: [[2, 6]] });
    // Where a CPU's kernels (oneDNN on AVX-512) move a layer, the first divergent one is named and explained.
    if (report.firstDivergentLayer !== null) expect(report.layers.find((l: { layer: string }) => l.layer === report.firstDivergentLayer).verdict).toBe("explained");
    expect(report.layers.map((l: { class: string }) => l.class)).toEqual(["Embedding", "Bidirectional", "TimeDistributed"]);
    for (const layer of report.layers) expect(Object.keys(layer)).toEqual(expect.arrayContaining(["name", "class", "worstUlpTfjsNode", "cpuWorstAbsError", "exact", "verdict", "cause", "reason"]));
    const html = join(dir, "report.html");
    const text = await tfbridge("parity", "model", model, "--html", html);
    expect(text.stdout).toMatch(/^PASS: model /);
    const page = readFileSync(html, "utf8");
    expect(page).toMatch(/id="verdict">PASS/);
    expect(page.match(/<svg class="chart"/g)!.length).toBeGreaterThanOrEqual(4);
    expect(page).not.toMatch(/<script|https?:\/\//);
    expect(text.stdout).toMatch(/bidirectional\s+Bidirectional\s+0/);
  });

  it("--max-ulp N --json states a tolerance: reported, and every layer exact, explained or within it", { timeout: 180_000 }, async () => {
    const { model } = kerasFileWithInputs();
    const { stdout, code } = await tfbridge("parity", "model", model, "--max-ulp", "4", "--json");
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.tolerance).toEqual({ maxUlp: 4 });
    for (const layer of report.layers) expect(["exact", "explained", "within-tolerance"]).toContain(layer.verdict);
    expect(report.environment.python.onednn).toHaveProperty("enabled");
    expect(report.environment.tfjsNode.cpu).toHaveProperty("isa");
  });

  it("a model config as JSON works too, in the form before subcommands (--model FILE) as well", async () => {
    const file = join(dir, "model.json");
    writeFileSync(file, JSON.stringify(REFERENCE_MODELS["conv-lstm"]!()));
    const { stdout, code } = await tfbridge("parity", "--model", file, "--json");
    expect(code).toBe(0);
    expect(JSON.parse(stdout).layers.map((l: { class: string }) => l.class)).toEqual(["Conv1D", "MaxPooling1D", "LSTM", "Dense"]);
  });

  it("bad command lines and bad files are one line each", async () => {
    const combined = await tfbridge("parity", "model", "x.keras", "--units", "3");
    expect(combined.code).toBe(2);
    expect(combined.stderr).toMatch(/^tfbridge parity: unknown option --units/);
    expect((await tfbridge("parity", "model")).stderr).toMatch(/^tfbridge parity: FILE is required/);
    // A missing file is a bad command line (exit 2, as in convert), found before any worker starts.
    for (const args of [["model", join(dir, "missing.keras")], ["--model", join(dir, "missing.keras")]]) {
      const missing = await tfbridge("parity", ...args);
      expect(missing.code).toBe(2);
      expect(missing.stderr.split("\n")[0]).toMatch(/^tfbridge parity: model .*missing\.keras: no such file$/);
      expect(missing.stderr).not.toMatch(/\n\s+at /);
    }
    expect((await tfbridge("parity", "model", join(dir, "missing.keras"), "--max-ulp", "1.5")).stderr).toMatch(/--max-ulp must be an integer ≥ 0/);
    // An inputs file that does not fit the model is a bad command line, as in tfbridge convert.
    const { model } = kerasFileWithInputs();
    const wrong = join(dir, "wrong.npz");
    execFileSync(".venv/bin/python", ["-c", `import numpy as np; np.savez(${JSON.stringify(wrong)}, tokens=np.zeros((2, 6), dtype="int32"))`]);
    const mismatch = await tfbridge("parity", "model", model, "--inputs", wrong);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/^tfbridge parity: --inputs .*wrong\.npz holds tokens; the model's inputs are ids/);
  }, 120_000);
});

describe("tfbridge parity sweep", () => {
  it("runs reference and random models and writes the layer table", async () => {
    const table = join(dir, "layers.md");
    const { stdout, code } = await tfbridge("parity", "sweep", "--count", "2", "--seed", "5", "--markdown", table, "--json");
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ models: 2 + Object.keys(REFERENCE_MODELS).length, failed: 0 });
    for (const key of ["backend", "layerTypes", "exactModels", "worstUlpTfjsNode", "cpuWorstAbsError", "inexact"]) expect(summary).toHaveProperty(key);
    const markdown = readFileSync(table, "utf8");
    expect(markdown).toMatch(/^\| layer \| family \| Python \(Keras 3\) \| TF\.js \| tfjs-node exact\? \| why not \|/);
    // The reference models always hold an LSTM (random ones vary with the generator).
    expect(markdown).toMatch(/\| LSTM \| recurrent \| yes \| TfbridgeLSTM \(tfbridge\) \| yes \|/);
  }, 600_000);
});

/**
 * Converted models in headless Chromium: each converts with an exit-0 proof, and stock TF.js in the
 * browser (CPU, WASM and WebGL) reproduces the Python Session; parity.html renders. make test runs a
 * few models (test/browser/convert-browser.test.ts), make test-long the rest (test/long).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NDArray, convertModel, ndarray } from "../../src/index.js";
import { compareArrays } from "../../src/entry/parity.js";
import { APPLICATIONS } from "../applications/applications.js";
import { sharedBridge } from "../helpers.js";
import { kerasReferences } from "../models/keras-reference.js";
import { serveStatic } from "./static-server.js";

/** Debian's chromium, installed by `make setup` when root; nothing is downloaded. */
const CHROMIUM = process.env.TFBRIDGE_CHROMIUM ?? "/usr/bin/chromium";
const root = resolve(import.meta.dirname, "../..");
/** The page: TF.js's browser bundle and its WASM backend from node_modules, tfbridge/tfjs-layers as built into dist/. */
const PAGE = `<!doctype html><meta charset="utf-8">
<script src="/tfjs/tf.min.js"></script>
<script src="/wasm/tf-backend-wasm.min.js"></script>
<script type="module">
  import { registerKerasLayers } from "/tfjs-layers/index.js";
  registerKerasLayers(tf);
  tf.wasm.setWasmPaths("/wasm/");
  window.predictOn = async (backend, modelUrl, inputs) => {
    if (!(await tf.setBackend(backend))) throw new Error("backend " + backend + " did not initialize");
    const model = await tf.loadLayersModel(modelUrl);
    const xs = inputs.map((x) => tf.tensor(x.data, x.shape, x.dtype));
    const out = model.predict(xs.length === 1 ? xs[0] : xs);
    const outs = Array.isArray(out) ? out : [out];
    const result = await Promise.all(outs.map(async (t) => ({ shape: t.shape, data: Array.from(await t.data()) })));
    tf.dispose([...xs, ...outs]);
    model.dispose();
    return { backend: tf.getBackend(), result };
  };
  window.ready = true;
</script>`;

/** The reference models of test/convert/make_models.py, and "mixed" (below). */
export const BROWSER_MODELS = ["lstm", "embedding-bigru", "conv1d-causal-lstm", "lstm-encoder-decoder", "simplernn-layernorm", "gru-reset-before", "lstm-relu-hardsigmoid-bn", "mixed"] as const;
/** The ones make test runs (the LSTM, an encoder-decoder, GRU reset_after=False); make test-long the rest. */
export const BROWSER_MODELS_IN_MAKE_TEST: readonly string[] = ["lstm", "lstm-encoder-decoder", "gru-reset-before"];

/** Registers the browser cases of `models` (BROWSER_MODELS) and of `applications` (test/applications' models, against Keras's predict). */
export function convertedInChromium(models: readonly string[], applications: readonly string[]): void {
  const dir = mkdtempSync(join(tmpdir(), "tfbridge-browser-"));
  const bridge = sharedBridge();
  /** What issue 20 holds converted files to in the browser, on every backend: within 1e-5 of Keras. */
  const BROWSER_TOLERANCE = { atol: 1e-5, rtol: 0 };
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serveStatic>>;

  // The seven trained reference models (test/convert/make_models.py), and one more that needs
  // most of tfbridge's TF.js classes: GRU reset_after (TF.js refuses it), Keras 3's
  // hard_sigmoid, causal Conv1D, LayerNormalization, masked GlobalAveragePooling1D, Concatenate, and a
  // masked branch beside an unmasked one.
  if (models.length > 0) execFileSync(".venv/bin/python", ["test/convert/make_models.py", dir], { stdio: ["ignore", "ignore", "pipe"] });
  if (models.includes("mixed")) execFileSync(
    ".venv/bin/python",
    [
      "-c",
      `import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, numpy as np
L = keras.layers
keras.utils.set_random_seed(7)
ids = keras.Input((7,), dtype="int32", name="ids")
feats = keras.Input((7, 3), name="feats")
x = L.Bidirectional(L.GRU(6, return_sequences=True))(L.Embedding(30, 5, mask_zero=True)(ids))
x = L.GlobalAveragePooling1D()(x)
y = L.Conv1D(4, 3, padding="causal", activation="relu")(feats)
y = L.LayerNormalization()(L.LSTM(5, recurrent_activation="hard_sigmoid")(y))
keras.Model([ids, feats], L.Dense(3, activation="softmax")(L.Concatenate()([y, x]))).save(${JSON.stringify(join(dir, "mixed.keras"))})
np.savez(${JSON.stringify(join(dir, "mixed.inputs.npz"))}, ids=np.array([[4, 8, 15, 16, 23, 0, 0], [1, 2, 3, 4, 5, 6, 7], [9, 0, 0, 0, 0, 0, 0]], dtype="int32"),
         feats=np.linspace(-2, 2, 63, dtype="float32").reshape(3, 7, 3))`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );

  beforeAll(async () => {
    // The page loads tfjs-layers as the package ships it (dist/, built by make setup): not a stale build.
    const newest = (folder: string, ext: string) => Math.max(...readdirSync(folder).filter((f) => f.endsWith(ext)).map((f) => statSync(join(folder, f)).mtimeMs));
    if (newest(join(root, "src/tfjs-layers"), ".ts") > newest(join(root, "dist/tfjs-layers"), ".js")) throw new Error("dist/tfjs-layers is older than src/tfjs-layers: run make build (make test does)");
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: \`make setup\` installs Debian's chromium when run as root (apt-get install chromium), or set TFBRIDGE_CHROMIUM`);
    // WebGL through SwiftShader, Chromium's software GPU: the same on every machine, GPU or none.
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"] });
    server = await serveStatic(
      {
        "/tfjs/": join(root, "node_modules/@tensorflow/tfjs/dist"),
        "/wasm/": join(root, "node_modules/@tensorflow/tfjs-backend-wasm/dist"),
        "/tfjs-layers/": join(root, "dist/tfjs-layers"),
        "/model/": dir,
      },
      { "/": PAGE, "/favicon.ico": "" },
    );
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("a converted model in headless Chromium", () => {
    if (models.length > 0) it.each(models)("%s: converts (exit 0 proof), stock TF.js in the browser (CPU, WASM and WebGL) reproduces the Python Session, parity.html renders its charts", { timeout: 180_000 }, async (name) => {
      const model = join(dir, `${name}.keras`);
      const npz = join(dir, `${name}.inputs.npz`);
      const out = join(dir, `${name}-web`);
      const conversion = await convertModel(model, out, { bridge: bridge(), inputs: npz });
      expect(conversion.ok).toBe(true);

      const arrays = await bridge().loadNpz(npz);
      await using handle = await bridge().loadModel(model);
      const inputs = handle.inputs.map((i) => arrays[i.name]!);
      const session = await handle.predict(inputs);

      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
      page.on("pageerror", (e) => void errors.push(String(e)));
      await page.goto(`${server.url}/`);
      await page.waitForFunction("window.ready === true");
      const plain = inputs.map((x: NDArray) => ({ shape: [...x.shape], dtype: x.dtype === "int32" ? "int32" : "float32", data: Array.from(x.data as ArrayLike<number>) }));
      for (const backend of ["cpu", "wasm", "webgl"]) {
        const { backend: used, result } = await page.evaluate((b, url, xs) => (globalThis as never as { predictOn: (...a: unknown[]) => Promise<{ backend: string; result: { shape: number[]; data: number[] }[] }> }).predictOn(b, url, xs), backend, `${server.url}/model/${name}-web/model.json`, plain);
        expect(used).toBe(backend);
        expect(result.length).toBe(session.names.length);
        session.names.forEach((output, k) => {
          const actual = ndarray("float32", result[k]!.shape, Float32Array.from(result[k]!.data));
          const comparison = compareArrays(actual, session.outputs[output]!, BROWSER_TOLERANCE);
          expect(comparison.pass, `${backend} ${output}: max abs ${comparison.maxAbsError}`).toBe(true);
        });
      }
      await page.close();
      expect(errors).toEqual([]);

      // The report a person opens: its charts are drawn (SVG with marks in them), nothing fails.
      const report = await browser.newPage();
      const reportErrors: string[] = [];
      report.on("console", (m) => void (m.type() === "error" && reportErrors.push(m.text())));
      report.on("requestfailed", (r) => void reportErrors.push(`request ${r.url()}`));
      await report.goto(`file://${join(out, "parity.html")}`);
      const charts = await report.$$eval("svg.chart", (svgs) => svgs.map((s) => ({ name: s.getAttribute("data-chart"), marks: s.querySelectorAll("rect, polyline").length, width: s.getBoundingClientRect().width })));
      expect(charts.filter((c) => c.name?.startsWith("max ")).length).toBe(2);
      const sequenceOutputs = conversion.report.layers.filter((l) => l.tfjsNode.timestepMaxAbsError && l.tfjsNode.timestepMaxAbsError.length > 1).length;
      expect(charts.filter((c) => c.name?.startsWith("timesteps ")).length).toBe(sequenceOutputs);
      expect(charts.filter((c) => c.name?.startsWith("ulp ")).length).toBe(2);
      for (const chart of charts) {
        expect(chart.marks, chart.name ?? "").toBeGreaterThan(0);
        expect(chart.width).toBeGreaterThan(100);
      }
      expect(await report.$eval("#verdict", (e) => e.textContent)).toMatch(/^PASS/);
      const png = await report.screenshot({ fullPage: true });
      expect(png.length).toBeGreaterThan(20_000);
      expect(reportErrors).toEqual([]);
      await report.close();
    });
  });

  describe("users' own models (test/applications), converted, in headless Chromium", () => {
    if (applications.length > 0) it.each(applications)("%s: stock TF.js in the browser (CPU, WASM and WebGL) reproduces Keras's predict", { timeout: 300_000 }, async (name) => {
      const ref = (await kerasReferences(bridge(), dir, { [name]: APPLICATIONS[name]! }))[name]!;
      const out = join(dir, `${name}-web`);
      expect((await convertModel(ref.path, out, { bridge: bridge() })).ok).toBe(true);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => void errors.push(String(e)));
      await page.goto(`${server.url}/`);
      await page.waitForFunction("window.ready === true");
      const plain = ref.inputs.map((x: NDArray) => ({ shape: [...x.shape], dtype: x.dtype === "int32" ? "int32" : "float32", data: Array.from(x.data as ArrayLike<number>) }));
      for (const backend of ["cpu", "wasm", "webgl"]) {
        const { backend: used, result } = await page.evaluate((b, url, xs) => (globalThis as never as { predictOn: (...a: unknown[]) => Promise<{ backend: string; result: { shape: number[]; data: number[] }[] }> }).predictOn(b, url, xs), backend, `${server.url}/model/${name}-web/model.json`, plain);
        expect(used).toBe(backend);
        const actual = ndarray("float32", result[0]!.shape, Float32Array.from(result[0]!.data));
        const comparison = compareArrays(actual, ref.expected, BROWSER_TOLERANCE);
        console.log(`${name} in Chromium on ${backend}: max abs ${comparison.maxAbsError.toExponential(2)} from Keras`);
        expect(comparison.pass, `${backend}: max abs ${comparison.maxAbsError}`).toBe(true);
      }
      await page.close();
      expect(errors).toEqual([]);
    });
  });
}

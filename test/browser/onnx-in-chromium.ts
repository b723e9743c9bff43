/**
 * Models converted to ONNX in headless Chromium's onnxruntime-web (WASM): every layer and the model's
 * outputs within the ONNX bound of the Session, and the parity page rendered. make test runs a few
 * (test/browser/onnx-browser.test.ts), make test-long the rest and MobileNetV2 (test/long).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ModelHandle, type NDArray, convertModelToOnnx, ndarray } from "../../src/index.js";
import { DEFAULT_ONNX_TOLERANCE, type OnnxParityReport, compareArrays } from "../../src/entry/parity.js";
import { normwise } from "../../src/parity/compare.js";
import { APPLICATIONS } from "../applications/applications.js";
import { sharedBridge } from "../helpers.js";
import { kerasReferences } from "../models/keras-reference.js";
import { serveStatic } from "./static-server.js";

/** Debian's chromium, installed by `make setup` when root; nothing is downloaded. */
const CHROMIUM = process.env.TFBRIDGE_CHROMIUM ?? "/usr/bin/chromium";
const root = resolve(import.meta.dirname, "../..");
/** The page: onnxruntime-web's WASM bundle from node_modules, single-threaded (no cross-origin isolation needed). */
const PAGE = `<!doctype html><meta charset="utf-8">
<script src="/ort/ort.wasm.min.js"></script>
<script>
  ort.env.wasm.wasmPaths = "/ort/";
  ort.env.wasm.numThreads = 1;
  window.runOnnx = async (url, inputs) => {
    const session = await ort.InferenceSession.create(url);
    const feeds = {};
    for (const [name, x] of Object.entries(inputs)) feeds[name] = new ort.Tensor(x.dtype, x.dtype === "int32" ? Int32Array.from(x.data) : Float32Array.from(x.data), x.shape);
    const out = await session.run(feeds);
    const result = {};
    for (const name of session.outputNames) result[name] = { shape: [...out[name].dims], data: Array.from(out[name].data) };
    await session.release();
    return result;
  };
  window.ready = true;
</script>`;

type PlainArrays = Record<string, { shape: number[]; data: number[] }>;

/** The reference models (test/convert/make_models.py) run in the browser on ONNX, and those of them make test runs; make test-long the rest. */
export const ONNX_BROWSER_MODELS = ["lstm", "embedding-bigru", "lstm-encoder-decoder"] as const;
export const ONNX_BROWSER_MODELS_IN_MAKE_TEST: readonly string[] = ["lstm", "lstm-encoder-decoder"];

/** Registers the cases: reference `models` (test/convert/make_models.py), the failing proof's page, and MobileNetV2 against Keras's predict. */
export function onnxInChromium({ models, failingProof, mobileNet }: { models: readonly string[]; failingProof: boolean; mobileNet: boolean }): void {
  const dir = mkdtempSync(join(tmpdir(), "tfbridge-onnx-browser-"));
  const bridge = sharedBridge();
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serveStatic>>;

  if (models.length > 0 || failingProof) execFileSync(".venv/bin/python", ["test/convert/make_models.py", dir], { stdio: ["ignore", "ignore", "pipe"] });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: \`make setup\` installs Debian's chromium when run as root (apt-get install chromium), or set TFBRIDGE_CHROMIUM`);
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
    server = await serveStatic({ "/ort/": join(root, "node_modules/onnxruntime-web/dist"), "/model/": dir }, { "/": PAGE, "/favicon.ico": "" });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs an ONNX file served from `dir` in the page; every output by name. */
  async function inChromium(file: string, handle: ModelHandle, inputs: NDArray[]): Promise<PlainArrays> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => void errors.push(String(e)));
    await page.goto(`${server.url}/`);
    await page.waitForFunction("window.ready === true");
    const plain = Object.fromEntries(handle.inputs.map((spec, i) => [spec.name, { shape: [...inputs[i]!.shape], dtype: inputs[i]!.dtype, data: Array.from(inputs[i]!.data as ArrayLike<number>) }]));
    const result = await page.evaluate((url, xs) => (globalThis as never as { runOnnx: (...a: unknown[]) => Promise<PlainArrays> }).runOnnx(url, xs), `${server.url}/model/${file}`, plain);
    await page.close();
    expect(errors).toEqual([]);
    return result;
  }

  /** Every layer of the per-layer export, and the user's model.onnx, in Chromium against the Session; the worst abs error. */
  async function proveInChromium(name: string, handle: ModelHandle, inputs: NDArray[]): Promise<number> {
    await handle.exportOnnx(join(dir, `${name}-layers.onnx`), { outputs: "layers" });
    const layers = await handle.predict(inputs, { outputs: "layers" });
    const model = await handle.predict(inputs);
    let worst = 0;
    const check = (got: PlainArrays, expected: Record<string, NDArray>, names: string[]) => {
      expect(Object.keys(got).sort()).toEqual([...names].sort());
      for (const output of names) {
        const actual = ndarray("float32", got[output]!.shape, Float32Array.from(got[output]!.data));
        const c = compareArrays(actual, expected[output]!, normwise(DEFAULT_ONNX_TOLERANCE, expected[output]!));
        expect(c.pass, `${name} ${output}: max abs ${c.maxAbsError}`).toBe(true);
        worst = Math.max(worst, c.maxAbsError);
      }
    };
    check(await inChromium(`${name}-layers.onnx`, handle, inputs), layers.outputs, layers.names);
    check(await inChromium(`${name}-onnx/model.onnx`, handle, inputs), model.outputs, model.names);
    return worst;
  }

  /** The report a person opens: every chart drawn (SVG with marks, a readable width), the verdict, no errors. */
  async function expectReportRenders(file: string, report: OnnxParityReport): Promise<void> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
    page.on("requestfailed", (r) => void errors.push(`request ${r.url()}`));
    await page.goto(`file://${file}`);
    const charts = await page.$$eval("svg.chart", (svgs) => svgs.map((s) => ({ name: s.getAttribute("data-chart"), marks: s.querySelectorAll("rect, polyline").length, width: s.getBoundingClientRect().width })));
    expect(charts.filter((c) => c.name?.startsWith("max ")).length).toBe(2);
    expect(charts.filter((c) => c.name?.startsWith("ulp ")).length).toBe(2);
    const sequences = report.layers.filter((l) => (l.runtimes["onnxruntime-node"]?.timestepMaxAbsError?.length ?? 0) > 1).length;
    expect(charts.filter((c) => c.name?.startsWith("timesteps ")).length).toBe(sequences);
    for (const chart of charts) {
      expect(chart.marks, chart.name ?? "").toBeGreaterThan(0);
      expect(chart.width).toBeGreaterThan(100);
    }
    expect(await page.$eval("#verdict", (e) => e.textContent)).toMatch(/^PASS/);
    expect(errors).toEqual([]);
    await page.close();
  }

  describe("a model converted to ONNX, in headless Chromium's onnxruntime-web (WASM)", () => {
    if (models.length > 0) it.each(models)("%s: every layer and the model's outputs within the ONNX bound of the Session; parity.html renders", { timeout: 180_000 }, async (name) => {
      const model = join(dir, `${name}.keras`);
      const npz = join(dir, `${name}.inputs.npz`);
      const conversion = await convertModelToOnnx(model, join(dir, `${name}-onnx`), { bridge: bridge(), inputs: npz });
      expect(conversion.ok).toBe(true);
      await expectReportRenders(join(dir, `${name}-onnx`, "parity.html"), conversion.report);
      const arrays = await bridge().loadNpz(npz);
      await using handle = await bridge().loadModel(model);
      const worst = await proveInChromium(name, handle, handle.inputs.map((i) => arrays[i.name]!));
      console.log(`${name} (ONNX) in Chromium: worst abs ${worst.toExponential(2)} over every layer`);
    });

    if (failingProof) it("a proof that fails (a bound of 0) is written, and its page marks the first layer beyond it with a bar of some width", { timeout: 120_000 }, async () => {
      const out = join(dir, "lstm-strict");
      const result = await convertModelToOnnx(join(dir, "lstm.keras"), out, { bridge: bridge(), inputs: join(dir, "lstm.inputs.npz"), tolerance: { atol: 0, rtol: 0 } });
      expect(result.ok).toBe(false);
      const first = result.report.firstDivergentLayer!;
      expect(first).not.toBeNull();
      const page = await browser.newPage();
      await page.goto(`file://${join(out, "parity.html")}`);
      expect(await page.$eval("#verdict", (e) => e.textContent)).toMatch(/^FAIL/);
      expect(await page.$eval("#first-divergent", (e) => e.textContent)).toBe(first);
      expect(await page.$eval("#next", (e) => e.textContent)).toContain(`Start at ${first}`);
      const marked = await page.$$eval(`rect.bar.marked[data-layer="${first}"]`, (bars) => bars.map((b) => b.getBoundingClientRect().width));
      expect(marked.length).toBeGreaterThan(0);
      for (const width of marked) expect(width).toBeGreaterThan(1);
      await page.close();
    });

    if (mobileNet) it("MobileNetV2: every layer within the bound, and Keras's predict reproduced", { timeout: 300_000 }, async () => {
      const ref = (await kerasReferences(bridge(), dir, { MobileNetV2: APPLICATIONS.MobileNetV2! })).MobileNetV2!;
      expect((await convertModelToOnnx(ref.path, join(dir, "MobileNetV2-onnx"), { bridge: bridge() })).ok).toBe(true);
      await using handle = await bridge().loadModel(ref.path);
      const worst = await proveInChromium("MobileNetV2", handle, ref.inputs);
      const got = await inChromium("MobileNetV2-onnx/model.onnx", handle, ref.inputs);
      const [output] = Object.values(got);
      const c = compareArrays(ndarray("float32", output!.shape, Float32Array.from(output!.data)), ref.expected, { atol: 1e-5, rtol: 0 });
      expect(c.pass, `max abs ${c.maxAbsError} from Keras's predict`).toBe(true);
      console.log(`MobileNetV2 (ONNX) in Chromium: worst abs ${worst.toExponential(2)} over every layer, ${c.maxAbsError.toExponential(2)} from Keras's predict`);
    });
  });
}

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lstmModel, ndarray } from "../../src/index.js";
import { type ModelParityReport, compareArrays, runModelParity } from "../../src/entry/parity.js";
import { parityHtml } from "../../src/parity/html-report.js";
import { sharedBridge } from "../helpers.js";

/** Debian's chromium, installed by `make setup` when root; nothing is downloaded. */
const CHROMIUM = process.env.TFBRIDGE_CHROMIUM ?? "/usr/bin/chromium";
const dir = mkdtempSync(join(tmpdir(), "tfbridge-parity-html-"));
const bridge = sharedBridge();
let browser: Browser;
beforeAll(async () => {
  browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--headless=new"] });
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `values` with element `at` moved `ulps` float32 steps up. */
function nudged(values: Float32Array, at: number, ulps: number): Float32Array {
  const out = new Float32Array(values);
  const bits = new Int32Array(out.buffer);
  bits[at]! += ulps;
  return out;
}

/**
 * A real report of a one-layer LSTM, then made into the case the issue found misleading: tfjs-node
 * failing by 1 ULP on the layer, the JS CPU backend passing at 50 ULP beside it.
 */
async function failingByOneUlp(): Promise<ModelParityReport> {
  const { config, resolved } = lstmModel({ units: 8, inputShape: [6, 2], returnSequences: true });
  await using handle = await bridge().model(config, { seed: resolved.seed });
  const report = await runModelParity(handle, { batch: 2 });
  const layer = report.layers[0]!;
  const expected = new Float32Array(2 * 6 * 8).map((_, i) => Math.sin(i) / 2);
  const shape = [2, 6, 8];
  layer.tfjsNode = compareArrays(ndarray("float32", shape, nudged(expected, 40, 1)), ndarray("float32", shape, expected), { atol: 0, rtol: 0 });
  layer.cpu = compareArrays(ndarray("float32", shape, nudged(expected, 7, 50)), ndarray("float32", shape, expected), { atol: 1e-5, rtol: 0 });
  Object.assign(layer, { exact: false, inputsExact: true, verdict: "fail", cause: "unexplained", pass: false, worstUlpTfjsNode: 1, reason: "1 ULP, no cause found" });
  Object.assign(report, { passed: false, firstDivergentLayer: layer.layer, verdicts: { exact: 0, explained: 0, "within-tolerance": 0, fail: 1 } });
  return report;
}

describe("parity.html in Chromium", () => {
  it("a failing 1-ULP bar is drawn with length beside a passing 50-ULP one, marked, and the page says where to start", async () => {
    const file = join(dir, "parity.html");
    writeFileSync(file, parityHtml(await failingByOneUlp(), { tfbridge: "test" }));
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(`file://${file}`);
    // A string, so this file needs no DOM types: it runs in the page.
    const seen = (await page.evaluate(`(() => {
      const chart = document.querySelector('svg[data-chart="max ULP against the Python Session"]');
      const bar = (runtime) => chart.querySelector('rect.bar[data-runtime="' + runtime + '"]').getBBox().width;
      return {
        node: bar("tfjs-node"),
        cpu: bar("JS CPU"),
        marked: chart.querySelectorAll("rect.bar.marked").length,
        label: chart.querySelector("text.label.marked")?.textContent ?? "",
        labelPx: parseFloat(getComputedStyle(chart.querySelector("text.label")).fontSize),
        next: document.querySelector("#next")?.textContent ?? "",
        page: { width: document.body.scrollWidth, height: document.body.scrollHeight },
      };
    })()`)) as { node: number; cpu: number; marked: number; label: string; labelPx: number; next: string; page: { width: number; height: number } };
    const screenshot = await page.screenshot({ fullPage: true });
    await page.close();
    expect(seen.node).toBeGreaterThan(20); // on the old axis (starting at 1) it was the 2 px stub
    expect(seen.cpu).toBeGreaterThan(seen.node);
    expect(seen.marked).toBe(2);
    expect(seen.label).toBe("lstm ◀ FAIL");
    expect(seen.labelPx).toBeGreaterThanOrEqual(12);
    expect(seen.next).toMatch(/^Start at lstm \(LSTM\): tfjs-node is 1 ULP off there, with its inputs bit-identical/);
    expect(seen.page.width).toBeGreaterThan(600);
    expect(seen.page.height).toBeGreaterThan(600);
    expect(screenshot.byteLength).toBeGreaterThan(10_000);
  }, 120_000);
});

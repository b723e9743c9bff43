import type { Comparison } from "./compare.js";
import { type RowMark, STYLE, chartSections, environmentTable, escape, num, timestepCurve as curveOf, ulpHistogram } from "./html-charts.js";
import type { LayerParity, ModelParityReport } from "./model-parity.js";
import type { Verdict } from "./verdict.js";

/** Versions of what produced a report, shown at its end. */
export type ReportEnvironment = Record<string, string>;

const COLORS = { node: "#1f77b4", cpu: "#ff7f0e" } as const;
const RUNTIMES = [
  { key: "node", label: "tfjs-node", pick: (l: LayerParity) => l.tfjsNode },
  { key: "cpu", label: "JS CPU", pick: (l: LayerParity) => l.cpu },
] as const;

/** A layer's per-timestep curves, one per runtime. */
function timestepCurve(layer: LayerParity, heading = ""): string | null {
  return curveOf(layer.name, layer.class, RUNTIMES.map((r) => ({ label: r.label, color: COLORS[r.key], steps: r.pick(layer)?.timestepMaxAbsError ?? null })), heading);
}

/** What each verdict means for the user, and what to do about it. */
const VERDICT_MEANING: Readonly<Record<Verdict, string>> = {
  exact: "bit-identical to the Python Session: nothing to do.",
  explained:
    "differs, and an experiment reproduced TF.js's numbers by changing one thing in Python (oneDNN's kernels, Grappler's graph rewrites, an input that already differed, or an op's stated bound): TensorFlow's own variation, not a porting error. Nothing to do; on another CPU other causes may apply.",
  "within-tolerance": "differs without a cause found, but within the tolerance you stated. Fine if that tolerance is what your application can take.",
  fail: "differs beyond what is explained or stated. Look at the first such layer: compare its arguments with what TF.js computes (the twin's class and defaults), run `tfbridge parity` on a model of that layer alone, or state a tolerance (--max-ulp N, --atol X) if the difference is acceptable.",
};

/** The one paragraph that says what the page means and what to do next. */
function nextStep(report: ModelParityReport, passed: boolean): string {
  const divergent = report.layers.find((l) => l.layer === report.firstDivergentLayer || l.name === report.firstDivergentLayer);
  const failing = report.layers.find((l) => !l.pass);
  if (!passed) {
    const layer = failing ?? divergent;
    if (!layer) return `A model output fails against the unmarked Session (see the list above): ${VERDICT_MEANING.fail}`;
    const where = layer.cpu && !layer.cpu.pass && layer.tfjsNode.pass ? `the pure-JS CPU backend is off by ${num(layer.cpu.maxAbsError)} there, beyond its tolerance` : `tfjs-node is ${layer.worstUlpTfjsNode} ULP off there${layer.inputsExact ? ", with its inputs bit-identical: the difference starts in this layer" : ""}`;
    return `Start at <b>${escape(layer.name)}</b> (${escape(layer.class)}): ${where}. ${escape(VERDICT_MEANING.fail)}`;
  }
  if (report.verdicts.explained + report.verdicts["within-tolerance"] === 0) return `Every layer output is bit-identical on tfjs-node: ${escape(VERDICT_MEANING.exact)}`;
  return `${report.verdicts.explained} layer output(s) differ with their cause explained${report.verdicts["within-tolerance"] ? `, ${report.verdicts["within-tolerance"]} within your tolerance` : ""}; none fails. ${escape(VERDICT_MEANING.explained)}`;
}

/**
 * The parity report as one self-contained HTML page (inline SVG and CSS; no script, no network): the
 * verdict first (with `extra.savedModel`, it counts too), per-layer charts of max abs error and max ULP for each runtime, the first divergent
 * layer, per-timestep error curves of sequence outputs, ULP histograms, a table with every layer's
 * explanation, and the environment.
 */
export function parityHtml(report: ModelParityReport, environment: ReportEnvironment, extra: { savedModel?: { worstUlp: number; maxAbsError: number; pass: boolean } } = {}): string {
  const { savedModel } = extra;
  const passed = report.passed && (savedModel?.pass ?? true);
  const layers = report.layers;
  const series = RUNTIMES.filter((r) => r.key === "node" || layers.some((l) => l.cpu)).map((r) => ({ label: r.label, color: COLORS[r.key] }));
  const pick = (l: LayerParity) => RUNTIMES.slice(0, series.length).map((r) => r.pick(l));
  const markOf = (l: LayerParity): RowMark => (!l.pass ? "fail" : l.layer === report.firstDivergentLayer || l.name === report.firstDivergentLayer ? "divergent" : null);
  const absRows = layers.map((l) => ({ label: l.name, values: pick(l).map((c) => c?.maxAbsError ?? null), mark: markOf(l) }));
  const ulpRows = layers.map((l) => ({ label: l.name, values: pick(l).map((c) => c?.maxUlp ?? null), mark: markOf(l) }));
  // The layer that matters first (failing, else first divergent), then the other sequence outputs.
  const focus = layers.find((l) => markOf(l) === "fail") ?? layers.find((l) => markOf(l) === "divergent");
  const focusCurve = focus ? timestepCurve(focus, markOf(focus) === "fail" ? "<b>failing:</b> " : "<b>first divergent:</b> ") : null;
  const curves = [
    ...(focus && !focusCurve ? [`<p>${escape(focus.name)} (${escape(focus.class)}), the ${markOf(focus) === "fail" ? "failing" : "first divergent"} layer, has no sequence output to chart over time.</p>`] : []),
    ...(focusCurve ? [focusCurve] : []),
    ...layers.filter((l) => l !== focus).map((l) => timestepCurve(l)).filter((c): c is string => c !== null),
  ];
  const histograms = RUNTIMES.slice(0, series.length).map((r) =>
    ulpHistogram(r.label, COLORS[r.key], layers.map(r.pick).filter((c): c is Comparison => c !== null && c.comparable)),
  );
  const rows = layers.map(
    (l) =>
      `<tr${markOf(l) ? ' class="marked"' : ""}><td>${escape(l.name)}</td><td>${escape(l.class)}</td><td class="num">${l.worstUlpTfjsNode}</td><td class="num">${num(l.tfjsNode.maxAbsError)}</td><td class="num">${l.cpuWorstAbsError === null ? "-" : num(l.cpuWorstAbsError)}</td><td>${l.cause}</td><td>${l.pass ? "pass" : "<b>FAIL</b>"}</td><td>${escape(l.reason ?? "")}</td></tr>`,
  );
  const outputs = report.modelOutputs.map(
    (o) =>
      `<li>${escape(o.name)}: tfjs-node ${o.tfjsNode.maxUlp} ULP against the unmarked Session${o.stockPredict ? `; TF.js's own predict ${o.stockPredict.maxUlp} ULP from the layer walk` : ""}${o.reason ? ` — ${escape(o.reason)}` : ""} — ${o.pass ? "pass" : "<b>FAIL</b>"}</li>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tfbridge parity: ${escape(report.model)}</title><style>${STYLE}</style></head>
<body>
<h1>Parity: ${escape(report.model)}</h1>
<p class="verdict ${passed ? "pass" : "fail"}" id="verdict">${passed ? "PASS" : "FAIL"}: ${report.exactLayers} of ${layers.length} layer outputs bit-identical on tfjs-node; worst ${report.worstUlpTfjsNode} ULP; JS CPU worst abs ${report.cpuWorstAbsError === null ? "-" : num(report.cpuWorstAbsError)}</p>
<p id="next">${nextStep(report, passed)}</p>
<p>First divergent layer: <b id="first-divergent">${escape(report.firstDivergentLayer ?? "none")}</b>. Inputs: ${report.inputs.map((i, k) => `${escape(i.name)} [${report.inputShapes[k]}] ${escape(i.dtype)}`).join(", ")}.</p>
<ul>${outputs.join("")}${savedModel ? `<li>saved_model on tfjs-node (tf.node.loadSavedModel): ${savedModel.worstUlp} ULP, max abs ${num(savedModel.maxAbsError)} against the Session — ${savedModel.pass ? "pass" : "<b>FAIL</b>"}</li>` : ""}</ul>
${chartSections({ abs: absRows, ulp: ulpRows }, series, curves, histograms)}
<h2>What the verdicts mean</h2>
<dl class="verdicts">${(Object.keys(VERDICT_MEANING) as Verdict[]).filter((v) => report.verdicts[v] > 0).map((v) => `<dt>${v} (${report.verdicts[v]})</dt><dd>${escape(VERDICT_MEANING[v])}</dd>`).join("")}</dl>
<h2>Every layer output</h2>
<table><thead><tr><th>output</th><th>class</th><th>node ULP</th><th>node abs</th><th>CPU abs</th><th>cause</th><th>verdict</th><th>why</th></tr></thead><tbody>${rows.join("")}</tbody></table>
${environmentTable(environment)}
</body></html>
`;
}

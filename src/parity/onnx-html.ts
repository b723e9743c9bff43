import type { OnnxRuntimeKind } from "../onnx/runtime.js";
import type { Comparison } from "./compare.js";
import { type RowMark, STYLE, chartSections, environmentTable, escape, num, timestepCurve, ulpHistogram } from "./html-charts.js";
import type { ReportEnvironment } from "./html-report.js";
import type { OnnxLayerParity, OnnxParityReport } from "./onnx-parity.js";

const SERIES: readonly { runtime: OnnxRuntimeKind; label: string; color: string }[] = [
  { runtime: "onnxruntime-node", label: "onnxruntime-node", color: "#2ca02c" },
  { runtime: "onnxruntime-web", label: "onnxruntime-web (WASM)", color: "#9467bd" },
];

/** One line per verdict, as the TF.js report has it: what the page means and what to do next. */
function nextStep(report: OnnxParityReport): string {
  const bound = `${report.tolerance.atol} + ${report.tolerance.rtol}·max|expected|`;
  if (report.passed) {
    return `Every layer output is within ${escape(bound)} of the Python Session on every runtime (${report.exactLayers} of ${report.layers.length} bit-identical). ONNX Runtime's kernels are not TensorFlow's, so small differences are expected; nothing to do unless your application needs bit-exact results (then serve the SavedModel or the TF.js files on tfjs-node).`;
  }
  const first = report.layers.find((l) => !l.pass);
  if (!first) return `A model output of the ONNX file is beyond ${escape(bound)} while every layer of the per-layer graph is within it: tf2onnx's optimizer converted the two graphs differently. Convert again with another --opset and report the model.`;
  if (first.reason) return `Start at <b>${escape(first.name)}</b> (${escape(first.class)}): ${escape(first.reason)}, so no bound can pass it. Look at how tf2onnx converted that layer's ops, or try another --opset.`;
  const worst = Object.entries(first.runtimes).map(([r, c]) => `${r} ${num(c!.maxAbsError)}`).join(", ");
  return `Start at <b>${escape(first.name)}</b> (${escape(first.class)}): max abs error ${escape(worst)}, beyond ${escape(bound)}. The difference starts there (its inputs are within the bound): look at how tf2onnx converted that layer's ops, try another --opset, or state a looser bound (--atol, --rtol) if your application can take it.`;
}

/** The ONNX parity report as one self-contained HTML page, laid out as the TF.js one (src/parity/html-report.ts). */
export function onnxParityHtml(report: OnnxParityReport, environment: ReportEnvironment): string {
  const series = SERIES.filter((s) => report.layers.some((l) => l.runtimes[s.runtime]));
  const markOf = (l: OnnxLayerParity): RowMark => (!l.pass ? (l.name === report.firstDivergentLayer ? "divergent" : "fail") : null);
  const values = (l: OnnxLayerParity, pick: (c: Comparison) => number) => series.map((s) => (l.runtimes[s.runtime] ? pick(l.runtimes[s.runtime]!) : null));
  const absRows = report.layers.map((l) => ({ label: l.name, values: values(l, (c) => c.maxAbsError), mark: markOf(l) }));
  const ulpRows = report.layers.map((l) => ({ label: l.name, values: values(l, (c) => c.maxUlp), mark: markOf(l) }));
  const focus = report.layers.find((l) => !l.pass);
  const curveOf = (l: OnnxLayerParity, heading = "") => timestepCurve(l.name, l.class, series.map((s) => ({ label: s.label, color: s.color, steps: l.runtimes[s.runtime]?.timestepMaxAbsError ?? null })), heading);
  const curves = [...(focus ? [curveOf(focus, "<b>first beyond the bound:</b> ")] : []), ...report.layers.filter((l) => l !== focus).map((l) => curveOf(l))].filter((c): c is string => c !== null);
  const histograms = series.map((s) => ulpHistogram(s.label, s.color, report.layers.map((l) => l.runtimes[s.runtime]).filter((c): c is Comparison => c !== undefined && c.comparable)));
  const cell = (c: Comparison | undefined) => (c ? `<td class="num">${num(c.maxAbsError)}</td><td class="num">${c.maxUlp}</td>` : "<td>-</td><td>-</td>");
  const rows = report.layers.map((l) => `<tr${markOf(l) ? ' class="marked"' : ""}><td>${escape(l.name)}</td><td>${escape(l.class)}</td>${series.map((s) => cell(l.runtimes[s.runtime])).join("")}<td>${l.pass ? "pass" : `<b>FAIL</b>${l.reason ? ` ${escape(l.reason)}` : ""}`}</td></tr>`);
  const outputs = report.modelOutputs.map((o) => `<li>${escape(o.name)}: ${series.map((s) => `${escape(s.label)} ${num(o.runtimes[s.runtime]?.maxAbsError ?? 0)} abs`).join(", ")} against the Session — ${o.pass ? "pass" : `<b>FAIL</b>${o.reason ? ` (${escape(o.reason)})` : ""}`}</li>`);
  const worst = series.map((s) => `${escape(s.label)} ${num(report.worstAbsError[s.runtime] ?? 0)}`).join(", ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tfbridge ONNX parity: ${escape(report.model)}</title><style>${STYLE}</style></head>
<body>
<h1>ONNX parity: ${escape(report.model)}</h1>
<p class="verdict ${report.passed ? "pass" : "fail"}" id="verdict">${report.passed ? "PASS" : "FAIL"}: ${report.layers.filter((l) => l.pass).length} of ${report.layers.length} layer outputs within the bound; worst abs ${worst}</p>
<p id="next">${nextStep(report)}</p>
<p>First beyond the bound: <b id="first-divergent">${escape(report.firstDivergentLayer ?? "none")}</b>. First not bit-identical: ${escape(report.firstInexactLayer ?? "none")}. Converted by tf2onnx ${escape(report.conversion.tf2onnx)} (onnx ${escape(report.conversion.onnx)}, opset ${report.conversion.opset}). Inputs: ${report.inputs.map((i, k) => `${escape(i.name)} [${report.inputShapes[k]}] ${escape(i.dtype)}`).join(", ")}.</p>
<ul>${outputs.join("")}</ul>
${chartSections({ abs: absRows, ulp: ulpRows }, series, curves, histograms)}
<h2>Every layer output</h2>
<table><thead><tr><th>output</th><th>class</th>${series.map((s) => `<th>${escape(s.label)} abs</th><th>ULP</th>`).join("")}<th>verdict</th></tr></thead><tbody>${rows.join("")}</tbody></table>
${environmentTable(environment)}
</body></html>
`;
}

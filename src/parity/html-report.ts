import type { Comparison } from "./compare.js";
import type { LayerParity, ModelParityReport } from "./model-parity.js";
import type { Verdict } from "./verdict.js";

/** Versions of what produced a report, shown at its end. */
export type ReportEnvironment = Record<string, string>;

const COLORS = { node: "#1f77b4", cpu: "#ff7f0e" } as const;
const RUNTIMES = [
  { key: "node", label: "tfjs-node", pick: (l: LayerParity) => l.tfjsNode },
  { key: "cpu", label: "JS CPU", pick: (l: LayerParity) => l.cpu },
] as const;

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const num = (x: number) => (x === 0 ? "0" : Number.isFinite(x) ? x.toExponential(2) : String(x));

/** How a row of a bar chart is marked: the layer that fails, or the first divergent one. */
type RowMark = "fail" | "divergent" | null;

/**
 * A horizontal bar chart on a log axis, one group of bars per row. The axis starts half a decade
 * below the smallest value, so the smallest bar (a failing 1 ULP beside a passing 50) still has
 * length; zero is drawn as a tick at the axis start (log scales have no zero) and labelled, so
 * "exact" is visible rather than missing. Marked rows are labelled and outlined in red.
 */
function logBars(title: string, rows: { label: string; values: (number | null)[]; mark: RowMark }[], series: { label: string; color: string }[], unit: string): string {
  const finite = rows.flatMap((r) => r.values).filter((v): v is number => v !== null && v > 0 && Number.isFinite(v));
  const lo = finite.length ? Math.log10(Math.min(...finite)) - 0.5 : -8;
  const hi = finite.length ? Math.max(Math.ceil(Math.log10(Math.max(...finite))), Math.ceil(lo + 1)) : 0;
  const span = hi - lo;
  const labelWidth = 260;
  const plotWidth = 560;
  const barHeight = 14;
  const rowHeight = series.length * barHeight + 10;
  const height = 44 + rows.length * rowHeight + 36;
  const x = (v: number) => labelWidth + ((Math.log10(v) - lo) / span) * plotWidth;
  const parts: string[] = [`<text x="6" y="20" class="title">${escape(title)}</text>`];
  for (let d = Math.ceil(lo); d <= hi; d++) {
    const px = x(10 ** d);
    parts.push(`<line x1="${px}" y1="32" x2="${px}" y2="${height - 30}" class="grid"/><text x="${px}" y="${height - 14}" class="axis" text-anchor="middle">1e${d}</text>`);
  }
  rows.forEach((row, r) => {
    const y0 = 36 + r * rowHeight;
    const note = row.mark === "fail" ? " ◀ FAIL" : row.mark === "divergent" ? " ◀ first divergent" : "";
    parts.push(`<text x="${labelWidth - 8}" y="${y0 + rowHeight / 2}" class="label${row.mark ? " marked" : ""}" text-anchor="end">${escape(row.label + note)}</text>`);
    row.values.forEach((v, s) => {
      const y = y0 + s * barHeight;
      const { color, label } = series[s]!;
      if (v === null) return;
      const tip = `<title>${escape(row.label)} · ${escape(label)}: ${num(v)} ${unit}</title>`;
      const data = `class="bar${row.mark ? " marked" : ""}" data-layer="${escape(row.label)}" data-runtime="${escape(label)}" data-value="${v}"`;
      if (v === 0) parts.push(`<rect ${data} x="${labelWidth}" y="${y}" width="2" height="${barHeight - 2}" fill="${color}">${tip}</rect><text x="${labelWidth + 5}" y="${y + barHeight - 3}" class="zero">0</text>`);
      else parts.push(`<rect ${data} x="${labelWidth}" y="${y}" width="${Math.max(2, x(v) - labelWidth)}" height="${barHeight - 2}" fill="${color}">${tip}</rect>`);
    });
  });
  const legend = series.map((s, i) => `<rect x="${labelWidth + 220 * i}" y="${height - 10}" width="12" height="10" fill="${s.color}"/><text x="${labelWidth + 18 + 220 * i}" y="${height}" class="axis">${escape(s.label)}</text>`).join("");
  return `<svg class="chart" data-chart="${escape(title)}" width="${labelWidth + plotWidth + 30}" height="${height + 8}" role="img" aria-label="${escape(title)}">${parts.join("")}${legend}</svg>`;
}

/** A line chart of each runtime's per-timestep max abs error of one sequence output (log axis, zeros at the floor). */
function timestepCurve(layer: LayerParity, heading = ""): string | null {
  const curves = RUNTIMES.map((r) => ({ ...r, steps: r.pick(layer)?.timestepMaxAbsError ?? null })).filter((c) => c.steps && c.steps.length > 1);
  if (!curves.length) return null;
  const all = curves.flatMap((c) => c.steps!).filter((v) => v > 0 && Number.isFinite(v));
  const lo = all.length ? Math.floor(Math.log10(Math.min(...all))) - 1 : -9;
  const hi = all.length ? Math.ceil(Math.log10(Math.max(...all))) : -8;
  const width = 420;
  const height = 170;
  const steps = curves[0]!.steps!.length;
  const px = (t: number) => 40 + (t / Math.max(1, steps - 1)) * (width - 50);
  const py = (v: number) => 15 + (1 - (Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(1, hi - lo)) * (height - 40);
  const lines = curves.map((c) => `<polyline fill="none" stroke="${COLORS[c.key]}" stroke-width="1.5" points="${c.steps!.map((v, t) => `${px(t).toFixed(1)},${py(v).toFixed(1)}`).join(" ")}"><title>${escape(c.label)}</title></polyline>`);
  const axes = `<line x1="40" y1="${height - 25}" x2="${width - 10}" y2="${height - 25}" class="grid"/><text x="40" y="${height - 10}" class="axis">t=0</text><text x="${width - 10}" y="${height - 10}" class="axis" text-anchor="end">t=${steps - 1}</text><text x="4" y="${py(10 ** hi) + 4}" class="axis">1e${hi}</text><text x="4" y="${py(10 ** lo) + 4}" class="axis">≤1e${lo}</text>`;
  return `<figure><svg class="chart" data-chart="timesteps ${escape(layer.name)}" width="${width}" height="${height}" role="img" aria-label="per-timestep error of ${escape(layer.name)}">${axes}${lines.join("")}</svg><figcaption>${heading}${escape(layer.name)} (${escape(layer.class)}): max abs error per timestep</figcaption></figure>`;
}

/** One runtime's ULP histogram over every layer output: how many elements are 0, ≤1, ≤2, … ULP away. */
function ulpHistogram(label: string, color: string, comparisons: Comparison[]): string {
  const totals = new Map<string, number>();
  for (const c of comparisons) for (const [bucket, n] of Object.entries(c.ulpHistogram)) totals.set(bucket, (totals.get(bucket) ?? 0) + n);
  const buckets = [...totals.entries()];
  const max = Math.max(1, ...buckets.map(([, n]) => n));
  const width = 60 + buckets.length * 70;
  const height = 150;
  const bars = buckets.map(([bucket, n], i) => {
    const h = Math.max(1, (Math.log10(n + 1) / Math.log10(max + 1)) * 90);
    const x = 40 + i * 70;
    return `<rect x="${x}" y="${115 - h}" width="50" height="${h}" fill="${color}"><title>${escape(bucket)} ULP: ${n} elements</title></rect><text x="${x + 25}" y="${110 - h}" class="axis" text-anchor="middle">${n}</text><text x="${x + 25}" y="132" class="label" text-anchor="middle">${escape(bucket)}</text>`;
  });
  return `<figure><svg class="chart" data-chart="ulp ${escape(label)}" width="${width}" height="${height}" role="img" aria-label="ULP histogram ${escape(label)}">${bars.join("")}<line x1="35" y1="115" x2="${width - 10}" y2="115" class="grid"/></svg><figcaption>${escape(label)}: elements by ULP distance from the Python Session (log height)</figcaption></figure>`;
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
.verdict{font-size:22px;padding:10px 14px;border-radius:6px;display:inline-block}
.pass{background:#e3f4e1;color:#185c12}.fail{background:#fbe3e3;color:#8a1111}
svg.chart{background:#fafafa;border:1px solid #eee;margin:6px 0}
.title{font-weight:600;font-size:15px}.label{font-size:13px}.axis{font-size:12px;fill:#555}.zero{font-size:11px;fill:#185c12}
.label.marked{fill:#b00;font-weight:700}rect.bar.marked{stroke:#b00;stroke-width:1.5}#next{font-size:15px;background:#f4f6fb;padding:10px 14px;border-radius:6px}
dl.verdicts dt{font-weight:600;margin-top:6px}dl.verdicts dd{margin-left:18px}
.grid{stroke:#ddd}figure{display:inline-block;margin:4px 12px 4px 0}figcaption{font-size:12px;color:#555}
table{border-collapse:collapse;font-size:12px}td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.marked td{background:#fdf0f0}`;

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
<h2>Per layer</h2>
${logBars("max abs error against the Python Session", absRows, series, "abs")}
${logBars("max ULP against the Python Session", ulpRows, series, "ULP")}
<h2>Per timestep</h2>
${curves.length ? curves.join("") : "<p>No sequence outputs.</p>"}
<h2>ULP histograms</h2>
${histograms.join("")}
<h2>What the verdicts mean</h2>
<dl class="verdicts">${(Object.keys(VERDICT_MEANING) as Verdict[]).filter((v) => report.verdicts[v] > 0).map((v) => `<dt>${v} (${report.verdicts[v]})</dt><dd>${escape(VERDICT_MEANING[v])}</dd>`).join("")}</dl>
<h2>Every layer output</h2>
<table><thead><tr><th>output</th><th>class</th><th>node ULP</th><th>node abs</th><th>CPU abs</th><th>cause</th><th>verdict</th><th>why</th></tr></thead><tbody>${rows.join("")}</tbody></table>
<h2>Environment</h2>
<table>${Object.entries(environment).map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join("")}</table>
</body></html>
`;
}

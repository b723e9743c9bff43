import type { Comparison } from "./compare.js";

/** The parts parity pages are drawn from (inline SVG, no script): bar charts on a log axis, ULP histograms, timestep curves. */

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const num = (x: number) => (x === 0 ? "0" : Number.isFinite(x) ? x.toExponential(2) : String(x));

/** How a row of a bar chart is marked: the layer that fails, or the first divergent one. */
export type RowMark = "fail" | "divergent" | null;

/**
 * A horizontal bar chart on a log axis, one group of bars per row. The axis starts half a decade
 * below the smallest value, so the smallest bar (a failing 1 ULP beside a passing 50) still has
 * length; zero is drawn as a tick at the axis start (log scales have no zero) and labelled, so
 * "exact" is visible rather than missing. Marked rows are labelled and outlined in red.
 */
export function logBars(title: string, rows: { label: string; values: (number | null)[]; mark: RowMark }[], series: { label: string; color: string }[], unit: string): string {
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

/** One runtime's per-timestep max abs error of a sequence output. */
export interface TimestepSeries {
  label: string;
  color: string;
  steps: number[] | null;
}

/** A line chart of each runtime's per-timestep max abs error of one sequence output (log axis, zeros at the floor). */
export function timestepCurve(name: string, cls: string, series: readonly TimestepSeries[], heading = ""): string | null {
  const curves = series.filter((c) => c.steps && c.steps.length > 1);
  if (!curves.length) return null;
  const all = curves.flatMap((c) => c.steps!).filter((v) => v > 0 && Number.isFinite(v));
  const lo = all.length ? Math.floor(Math.log10(Math.min(...all))) - 1 : -9;
  const hi = all.length ? Math.ceil(Math.log10(Math.max(...all))) : -8;
  const width = 420;
  const height = 170;
  const steps = curves[0]!.steps!.length;
  const px = (t: number) => 40 + (t / Math.max(1, steps - 1)) * (width - 50);
  const py = (v: number) => 15 + (1 - (Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(1, hi - lo)) * (height - 40);
  const lines = curves.map((c) => `<polyline fill="none" stroke="${c.color}" stroke-width="1.5" points="${c.steps!.map((v, t) => `${px(t).toFixed(1)},${py(v).toFixed(1)}`).join(" ")}"><title>${escape(c.label)}</title></polyline>`);
  const axes = `<line x1="40" y1="${height - 25}" x2="${width - 10}" y2="${height - 25}" class="grid"/><text x="40" y="${height - 10}" class="axis">t=0</text><text x="${width - 10}" y="${height - 10}" class="axis" text-anchor="end">t=${steps - 1}</text><text x="4" y="${py(10 ** hi) + 4}" class="axis">1e${hi}</text><text x="4" y="${py(10 ** lo) + 4}" class="axis">≤1e${lo}</text>`;
  return `<figure><svg class="chart" data-chart="timesteps ${escape(name)}" width="${width}" height="${height}" role="img" aria-label="per-timestep error of ${escape(name)}">${axes}${lines.join("")}</svg><figcaption>${heading}${escape(name)} (${escape(cls)}): max abs error per timestep</figcaption></figure>`;
}

/** One runtime's ULP histogram over every layer output: how many elements are 0, ≤1, ≤2, … ULP away. */
export function ulpHistogram(label: string, color: string, comparisons: Comparison[]): string {
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

export const STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
.verdict{font-size:22px;padding:10px 14px;border-radius:6px;display:inline-block}
.pass{background:#e3f4e1;color:#185c12}.fail{background:#fbe3e3;color:#8a1111}
svg.chart{background:#fafafa;border:1px solid #eee;margin:6px 0}
.title{font-weight:600;font-size:15px}.label{font-size:13px}.axis{font-size:12px;fill:#555}.zero{font-size:11px;fill:#185c12}
.label.marked{fill:#b00;font-weight:700}rect.bar.marked{stroke:#b00;stroke-width:1.5}#next{font-size:15px;background:#f4f6fb;padding:10px 14px;border-radius:6px}
dl.verdicts dt{font-weight:600;margin-top:6px}dl.verdicts dd{margin-left:18px}
.grid{stroke:#ddd}figure{display:inline-block;margin:4px 12px 4px 0}figcaption{font-size:12px;color:#555}
table{border-collapse:collapse;font-size:12px}td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.marked td{background:#fdf0f0}`;


/** The charts both parity pages show, in their order: per layer (abs, ULP), per timestep, ULP histograms. */
export function chartSections(rows: { abs: Parameters<typeof logBars>[1]; ulp: Parameters<typeof logBars>[1] }, series: { label: string; color: string }[], curves: string[], histograms: string[]): string {
  return `<h2>Per layer</h2>
${logBars("max abs error against the Python Session", rows.abs, series, "abs")}
${logBars("max ULP against the Python Session", rows.ulp, series, "ULP")}
<h2>Per timestep</h2>
${curves.length ? curves.join("") : "<p>No sequence outputs.</p>"}
<h2>ULP histograms</h2>
${histograms.join("")}`;
}

/** What produced a report, as the table that ends its page. */
export function environmentTable(environment: Record<string, string>): string {
  return `<h2>Environment</h2>
<table>${Object.entries(environment).map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join("")}</table>`;
}

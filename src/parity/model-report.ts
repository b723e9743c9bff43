import { LAYER_RULES } from "../models/schema.js";
import { textTable } from "../table.js";
import { kerasCustomClass } from "../tfjs-layers/index.js";
import { describeRuntimes } from "./environment.js";
import type { ModelParityReport } from "./model-parity.js";
import type { ModelSweepSummary } from "./model-sweep.js";
import { describeTolerance } from "./verdict.js";

const num = (x: number | null) => (x === null ? "-" : x === 0 ? "0" : x.toExponential(2));

/** The per-layer report of one model, as text: the verdict first, then one line per layer output. */
export function formatModelParityReport(report: ModelParityReport): string {
  const rows = report.layers.map((l) => [
    l.name,
    l.class,
    String(l.worstUlpTfjsNode),
    num(l.tfjsNode.maxAbsError),
    num(l.cpuWorstAbsError),
    l.exact ? "exact" : l.tfjsNode.firstBadTimestep !== null ? `t=${l.tfjsNode.firstBadTimestep}` : "",
    l.verdict === "fail" ? "FAIL" : l.verdict,
    l.reason ?? "",
  ]);
  const verdict = report.passed ? "PASS" : "FAIL";
  return [
    `${verdict}: model ${report.model}, inputs ${report.inputs.map((i, k) => `${i.name} [${report.inputShapes[k]}]`).join(", ")}`,
    `${report.exactLayers} of ${report.layers.length} layer outputs bit-identical on tfjs-node; worst ${report.worstUlpTfjsNode} ULP; JS CPU worst abs ${num(report.cpuWorstAbsError)}`,
    `verdicts: ${Object.entries(report.verdicts).map(([v, n]) => `${n} ${v}`).join(", ")}${report.tolerance ? ` (stated tolerance: ${describeTolerance(report.tolerance)})` : ""}`,
    ...describeRuntimes(report.environment),
    `first divergent layer: ${report.firstDivergentLayer ?? "none"}`,
    ...report.modelOutputs.map(
      (o) =>
        `model output ${o.name} (unmarked graph): tfjs-node ${o.tfjsNode.maxUlp} ULP${o.markingChanged.maxUlp ? `; marking every layer changed it by ${o.markingChanged.maxUlp} ULP` : ""}${o.reason ? ` — ${o.reason}` : ""}${o.pass ? "" : " — FAIL"}`,
    ),
    "",
    textTable(["output", "class", "node ULP", "node abs", "cpu abs", "exact/first t", "verdict", "why"], rows),
  ].join("\n");
}

/** The model sweep as text: one line per model, then the totals. */
export function formatModelSweep(summary: ModelSweepSummary): string {
  const failures = new Map(summary.failures.map((f) => [f.model, f.reason]));
  const rows = summary.reports.map((r) => [r.model, String(r.layers.length), String(r.exactLayers), String(r.worstUlpTfjsNode), num(r.cpuWorstAbsError), r.passed ? "pass" : "FAIL"]);
  for (const [model, reason] of failures) if (!summary.reports.some((r) => r.model === model)) rows.push([model, "-", "-", "-", "-", `FAIL: ${reason}`]);
  return [
    textTable(["model", "outputs", "exact", "node ULP", "cpu abs", "verdict"], rows),
    "",
    `backend ${summary.backend}: ${summary.models} models, ${summary.failed} failed, ${summary.exactModels} bit-exact on every layer`,
    `layer outputs: ${Object.entries(summary.verdicts).map(([v, n]) => `${n} ${v}`).join(", ")}`,
    ...(summary.environment ? describeRuntimes(summary.environment) : []),
    `${summary.layerTypes.length} layer classes: ${summary.layerTypes.join(", ")}`,
    `JS CPU worst abs: reference models ${num(summary.cpuWorstAbsError.reference)}, all ${num(summary.cpuWorstAbsError.all)}`,
    ...summary.failures.map((f) => `FAILED ${f.model}: ${f.reason}`),
  ].join("\n");
}

/** The configs of a class that TF.js's own class builds wrongly, so tfbridge's builds them (see kerasCustomClass). */
const VARIANTS: Record<string, [Record<string, unknown>, string]> = {
  Conv1D: [{ padding: "causal" }, "causal or dilated"],
  Conv2D: [{ dilation_rate: [2, 2] }, "dilated or grouped"],
  DepthwiseConv2D: [{ dilation_rate: [2, 2] }, "dilated"],
  SeparableConv2D: [{ dilation_rate: [2, 2] }, "dilated"],
  Conv3D: [{ dilation_rate: [2, 2, 2] }, "dilated, or same with a kernel shorter than its stride"],
  GlobalAveragePooling2D: [{ keepdims: true }, "keepdims"],
  GlobalMaxPooling2D: [{ keepdims: true }, "keepdims"],
  UpSampling2D: [{ interpolation: "bilinear" }, "bilinear"],
};

/**
 * docs/parity.md's layer table, from a sweep: per supported layer, whether Python builds it, the TF.js
 * class that builds its twin, and how the twin compared on tfjs-node with its inputs equal.
 */
export function layerTable(summary: ModelSweepSummary): string {
  const lines = ["| layer | family | Python (Keras 3) | TF.js | tfjs-node exact? | why not |", "|---|---|---|---|---|---|"];
  for (const [cls, rule] of Object.entries(LAYER_RULES)) {
    const own = kerasCustomClass(cls, {});
    const variant = VARIANTS[cls];
    const custom = [own, variant ? `${kerasCustomClass(cls, variant[0])} (${variant[1]})` : null].filter(Boolean);
    const tfjs = custom.length ? `${variant && !own ? `${rule.tfjs}, ` : ""}${custom.join(", ")} (tfbridge)` : String(rule.tfjs);
    const stats = summary.classes[cls];
    let exact = "not covered by this sweep";
    let why = "";
    if (cls === "InputLayer") exact = "input";
    else if (stats) {
      const c = stats.causes;
      const own = (c.bound ?? 0) + (c.unexplained ?? 0);
      exact = own === 0 ? "yes" : `within a bound (≤ ${stats.worstUlpOwn} ULP)`;
      const parts = [`${c.exact ?? 0}/${stats.outputs} outputs identical to the Session`];
      if (c.onednn) parts.push(`${c.onednn} where oneDNN's kernels moved a runtime: identical with oneDNN off in both`);
      if (c.grappler) parts.push(`${c.grappler} where Grappler rewrote the Session: identical with rewrites off`);
      if (c.graph) parts.push(`${c.graph} where the Session's graph differed from eager: identical to Python eager`);
      if (c.inherited) parts.push(`${c.inherited} inherited an input's difference`);
      why = [...parts, ...stats.bounds].join("; ");
    }
    const inference = rule.inference === "identity" ? " (identity at inference)" : "";
    lines.push(`| ${cls}${inference} | ${rule.family} | yes | ${tfjs} | ${exact} | ${why} |`);
  }
  return lines.join("\n");
}

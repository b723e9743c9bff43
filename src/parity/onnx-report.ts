import { platform, arch } from "node:os";
import type { WorkerInfo } from "../worker/info.js";
import type { ReportEnvironment } from "./html-report.js";
import type { OnnxParityReport } from "./onnx-parity.js";
import type { OnnxSweepSummary } from "./onnx-sweep.js";

const num = (x: number | undefined) => (x === undefined ? "-" : x === 0 ? "0" : x.toExponential(2));

/** The ONNX parity report as text: a line per layer output and per model output, then the verdict. */
export function formatOnnxParityReport(report: OnnxParityReport): string {
  const runtimes = Object.keys(report.runtimeVersions) as (keyof OnnxParityReport["runtimeVersions"])[];
  const lines = [`ONNX parity: ${report.model} (tf2onnx ${report.conversion.tf2onnx}, opset ${report.conversion.opset}; ${runtimes.map((r) => `${r} ${report.runtimeVersions[r]}`).join(", ")})`];
  lines.push(`bound per layer output: ${report.tolerance.atol} + ${report.tolerance.rtol}·max|expected| (normwise)`);
  for (const l of report.layers) {
    lines.push(`  ${l.pass ? "ok  " : "FAIL"} ${l.name} (${l.class}): ${l.reason ?? runtimes.map((r) => `${r} ${num(l.runtimes[r]?.maxAbsError)} abs, ${l.runtimes[r]?.maxUlp ?? "-"} ULP`).join("; ")}`);
  }
  for (const o of report.modelOutputs) lines.push(`  output ${o.name}: ${o.reason ?? runtimes.map((r) => `${r} ${num(o.runtimes[r]?.maxAbsError)} abs`).join("; ")}${o.pass ? "" : " — FAIL"}`);
  lines.push(`first beyond the bound: ${report.firstDivergentLayer ?? "none"}; first not bit-identical: ${report.firstInexactLayer ?? "none"}; ${report.exactLayers} of ${report.layers.length} bit-identical`);
  lines.push(report.passed ? "PASS" : "FAIL");
  return lines.join("\n");
}

/** What produced an ONNX report, shown at its end. */
export function onnxReportEnvironment(worker: WorkerInfo, report: OnnxParityReport): ReportEnvironment {
  return {
    "Python TensorFlow": worker.tensorflow,
    Keras: worker.keras,
    NumPy: worker.numpy,
    tf2onnx: report.conversion.tf2onnx,
    onnx: report.conversion.onnx,
    opset: String(report.conversion.opset),
    ...Object.fromEntries(Object.entries(report.runtimeVersions).map(([r, v]) => [r, v!])),
    "Python CPU": `${worker.cpu.model} [${worker.cpu.isa.join(" ")}], oneDNN ${worker.onednn.enabled ? "on" : "off"}`,
    "onnxruntime CPU": `${report.environment.onnxRuntime.cpu.model} [${report.environment.onnxRuntime.cpu.isa.join(" ")}]`,
    Node: process.versions.node,
    platform: `${platform()} ${arch()}`,
    date: new Date().toISOString(),
  };
}

/** The ONNX sweep as text: totals, failures, then one line per layer class. */
export function formatOnnxSweep(summary: OnnxSweepSummary): string {
  const lines = [
    `ONNX sweep: ${summary.models} models, ${summary.failed} failed; tf2onnx ${summary.conversion?.tf2onnx ?? "-"} opset ${summary.conversion?.opset ?? "-"}; ${Object.entries(summary.runtimeVersions).map(([r, v]) => `${r} ${v}`).join(", ")}`,
    `worst abs error: ${Object.entries(summary.worstAbsError).map(([r, e]) => `${r} ${num(e)}`).join(", ")}`,
    ...summary.failures.map((f) => `  FAIL ${f.model}: ${f.reason}`),
    ...Object.entries(summary.classes).sort(([a], [b]) => a.localeCompare(b)).map(([name, c]) => `  ${name}: ${c.outputs} outputs, ${c.exact} exact, worst ${num(c.worstAbsError)} abs / ${c.worstUlp} ULP, ${(100 * c.worstShareOfBound).toFixed(1)}% of the bound`),
  ];
  return lines.join("\n");
}

/** docs/onnx.md's table: per layer class, outputs, bit-identical ones, the worst distance and share of the bound. */
export function onnxClassTable(summary: OnnxSweepSummary): string {
  const rows = Object.entries(summary.classes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, c]) => `| ${name} | ${c.outputs} | ${c.exact} | ${num(c.worstAbsError)} | ${c.worstUlp} | ${(100 * c.worstShareOfBound).toFixed(1)}% |`);
  return ["| layer class | outputs | bit-identical | worst abs error | worst ULP | worst share of the bound |", "|---|---|---|---|---|---|", ...rows].join("\n");
}

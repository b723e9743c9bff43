import { textTable } from "../table.js";
import { type Comparison, formatComparison } from "./compare.js";
import type { ParityReport } from "./engine.js";
import { describeRuntimes } from "./environment.js";

const num = (x: number) => (x === 0 ? "0" : x.toExponential(2));

function comparisonRow(runtime: string, output: string, c: Comparison): string[] {
  return [
    runtime,
    output,
    c.pass ? "pass" : "FAIL",
    `${c.tolerance.atol}/${c.tolerance.rtol}`,
    num(c.maxAbsError),
    num(c.maxRelError),
    String(c.maxUlp),
    `${c.outside}/${c.elements}`,
    c.worst ? `[${c.worst.index}]` : "-",
    c.firstBadTimestep === null ? "-" : String(c.firstBadTimestep),
  ];
}

/** The report for one spec as a person reads it. */
export function formatParityReport(r: ParityReport): string {
  const s = r.spec;
  const flags = (["returnSequences", "returnState", "goBackwards", "useBias", "unitForgetBias"] as const).filter((k) => s[k]);
  const rows = r.runtimes.flatMap((rt) => Object.entries(rt.comparisons).map(([name, c]) => comparisonRow(rt.runtime, name, c)));
  const parts = [
    `LSTM units=${s.units} input=[${r.inputShape}] activation=${s.activation} recurrentActivation=${s.recurrentActivation}` +
      (flags.length ? ` ${flags.join(" ")}` : ""),
    `reference: Python ${r.reference === "session" ? "tf.compat.v1.Session" : "eager for the layers (see trap below), the Session for the SavedModel"}, same weights everywhere`,
    ...describeRuntimes(r.environment),
    "",
    textTable(["runtime", "output", "verdict", "atol/rtol", "max abs", "max rel", "max ULP", "outside", "worst at", "first bad t"], rows),
  ];
  for (const rt of r.runtimes) {
    for (const [name, c] of Object.entries(rt.comparisons)) {
      if (!c.pass || c.maxUlp > 0) parts.push("", `${rt.runtime} ${name}:`, formatComparison(c));
    }
  }
  if (r.trap) {
    parts.push("", "known trap:");
    for (const t of r.trap.traps) {
      parts.push(`  ${t.id} (${t.fields.map((f) => `${f}=${r.spec[f]}`).join(", ")}): ${t.reason}`, `  compared as: ${t.matchedBy}`);
    }
    const naive = r.trap.naiveTfjs ? `; TF.js's own hardSigmoid vs Keras 3's: max abs ${num(r.trap.naiveTfjs.maxAbsError)}` : "";
    parts.push(`  measured: Python Session vs eager: max abs ${num(r.trap.sessionVsEager.maxAbsError)}, ${r.trap.sessionVsEager.maxUlp} ULP${naive}`);
  }
  parts.push("", `verdict: ${r.pass ? "PASS" : "FAIL"}`);
  return parts.join("\n");
}

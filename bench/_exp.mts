import { Bridge, convertModel } from "../src/index.js";
import { rmSync } from "node:fs";
await using bridge = await Bridge.start();
for (const name of ["simplernn-layernorm"]) {
  rmSync(`/tmp/mm/${name}-web`, { recursive: true, force: true });
  const r = await convertModel(`/tmp/mm/${name}.keras`, `/tmp/mm/${name}-web`, { bridge, inputs: `/tmp/mm/${name}.inputs.npz` });
  console.log(name, r.ok, r.report.passed, JSON.stringify(r.report.verdicts));
  for (const l of r.report.layers) console.log(" ", l.name, l.verdict, l.cause, l.pass, l.worstUlpTfjsNode, l.reason, l.cpu?.pass, l.cpu?.maxAbsError);
  for (const o of r.report.modelOutputs) console.log(" out", o.name, o.verdict, o.pass, o.reason, o.stockPredict?.maxUlp);
}

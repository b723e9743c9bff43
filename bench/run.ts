/**
 * `make bench` (QUICK=1 for the short run): the bridge beside its peers and the machine's limits, all
 * measured in one run so the ratios compare like with like. Prints a table; writes bench/results.json
 * (schema: docs/bench.md).
 */
import { writeFileSync } from "node:fs";
import { type ApplicationRow, applications } from "./applications.js";
import { type BaseEngine, startBase } from "./base.js";
import { cpus } from "node:os";
import { Bridge } from "../src/index.js";
import { tfjsInfo } from "../src/tfjs/runtime.js";
import { textTable } from "../src/table.js";
import { coldStart } from "./coldstart.js";
import { latency } from "./latency.js";
import { lstm } from "./lstm.js";
import { startPythonia } from "./peers.js";
import { CONCURRENCY, at, serving } from "./serving.js";
import { round } from "./stats.js";
import { opFloor } from "./op-floor.js";
import { targets } from "./targets.js";
import { transfer } from "./transfer.js";
import { wasmReady } from "./wasm.js";

const quick = process.argv.includes("--quick");
/** `--base REV`: the engine of REV runs the pipelined case in this same run (bench/base.ts). */
const baseAt = process.argv.indexOf("--base");
const baseRev = baseAt >= 0 ? process.argv[baseAt + 1] : undefined;
if (baseAt >= 0 && !baseRev) throw new Error("--base needs a git revision, e.g. --base main");
const started = performance.now();
process.stderr.write(`tfbridge bench${quick ? " (quick)" : ""}\n`);

const bridge = await Bridge.start(); // the default link: local where its addon is built
const zeromq = await Bridge.start({ link: "zeromq" });
process.stderr.write(`  default link: ${bridge.link}\n`);
const pythonia = await startPythonia();
const transferSection = await transfer(bridge, zeromq, pythonia, quick);
const base: BaseEngine | null = baseRev ? await startBase(baseRev) : null;
const latencySection = await latency(bridge, zeromq, pythonia, quick, base).finally(() => base?.dispose());
const servingSection = await serving(pythonia, quick);
pythonia.exit();
const lstmSection = await lstm(bridge, zeromq, quick);
const opFloorSection = await opFloor(lstmSection.tfjsNodeLayers.median, quick);
const wasm = await wasmReady();
const targetsSection = await targets(bridge, wasm, quick);
/** `--applications` (make bench APPLICATIONS=1): the Keras Applications in the Session and as converted files. */
const applicationsSection: ApplicationRow[] | null = process.argv.includes("--applications") ? await applications(bridge, wasm, quick) : null;
const info = { worker: bridge.info, tfjs: await tfjsInfo(), link: bridge.link };
await bridge.close();
await zeromq.close();
const coldStartSection = await coldStart(quick);

/** `below`: strictly under the target (issue 10: "below a pythonia call"). */
const goal = (name: string, measured: number | null, target: number, atMost: boolean, below = false) => ({
  name,
  measured,
  target,
  atMost,
  met: measured !== null && (below ? measured < target : atMost ? measured <= target : measured >= target),
});
/** Issue 10's baseline: pipelined requests/s on main before the local link (one full `make bench`). */
const PIPELINED_BASELINE = 25_400;
const fromOneMiB = lstmSection.scaling.filter((r) => r.outputBytes >= 2 ** 20 - 2 ** 16);
const goals = [
  goal("binary path ÷ memcpy bandwidth at 64 MB", transferSection.memcpyFraction64MB, 0.5, false),
  goal("binary path ÷ pythonia at 1M float32", transferSection.vsPythonia1M, 300, false),
  goal("proxy toNDArray ÷ proxy .tolist().valueOf() at 1M float32", transferSection.proxy1M.speedup, 300, false),
  goal("tiny round trip p50 ÷ raw pipe p50", latencySection.bridgeVsRawPipe, 1.3, true),
  goal("tiny round trip p50 ÷ pythonia call p50 (below)", latencySection.bridgeVsPythonia, 1, true, true),
  goal("bridge overhead over in-worker Session, %", lstmSection.bridgeOverheadPct, 5, true),
  goal("LSTM overhead from 1 MiB of output up, worst %", fromOneMiB.length ? Math.max(...fromOneMiB.map((r) => r.local.overheadPct)) : null, 5, true),
  goal("LSTM fixed per-call cost ÷ tiny echo p50", round(lstmSection.fixedCostMs / latencySection.bridge.median), 2, true),
  goal("pipelined requests/s, one Bridge ÷ 25.4k", round(latencySection.pipelinedPerSecond / PIPELINED_BASELINE), 4, false),
  goal("pipelined requests/s, Pool of 2 ÷ 25.4k", round(latencySection.pipelinedPerSecondPool2 / PIPELINED_BASELINE), 4, false),
  // Issue 19: the binary header (wire format v2), one deadline timer, less per-request work in Node.
  goal("issue 19: tiny round trip p50 ÷ raw pipe p50", latencySection.bridgeVsRawPipe, 2, true),
  goal("issue 19: pipelined requests/s, one Bridge ÷ the --base engine, same run", latencySection.pipelinedVsBase, 2, false),
  goal("fastest TF.js path ÷ Python Session", lstmSection.bestTfjsVsSession, 1.5, true),
  // Issue 21: the converted model (stock TF.js with tfbridge's classes) on tfjs-node, worst reference model.
  goal("issue 21: converted model on tfjs-node ÷ Session in worker, worst of 7 reference models", Math.max(...targetsSection.map((r) => r.tfjsNodeVsSession)), 1.5, true),
  ...servingGoals(),
];

/** The serving goals, at concurrency 256 on the seed's LSTM, against FastAPI with the same worker count. */
function servingGoals() {
  const pool = at(servingSection, /Pool\(\d+\), batching off/, "lstm", 256);
  const batched = at(servingSection, /Pool\(\d+\), batching on/, "lstm", 256);
  const fastapi = at(servingSection, /FastAPI/, "lstm", 256);
  const serve = at(servingSection, /tfbridge serve/, "lstm", 256);
  const floor = at(servingSection, /Node http alone/, "lstm", 256);
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? round(a / b) : null);
  return [
    goal("serving: Pool unbatched ÷ FastAPI, requests/s, LSTM, concurrency 256", ratio(pool?.requestsPerSecond, fastapi?.requestsPerSecond), 4, false),
    goal("serving: batching on ÷ batching off, Pool requests/s, LSTM, concurrency 256", ratio(batched?.requestsPerSecond, pool?.requestsPerSecond), 10, false),
    goal("serving: Pool batching ÷ FastAPI, requests/s, LSTM, concurrency 256", ratio(batched?.requestsPerSecond, fastapi?.requestsPerSecond), 30, false),
    goal("serving: Pool batching p99 ÷ FastAPI p99, LSTM, concurrency 256", ratio(batched?.p99Ms, fastapi?.p99Ms), 1, true),
    // Issue 22: over HTTP on both sides, both loaded by wrk.
    goal("issue 22: tfbridge serve ÷ FastAPI, requests/s over HTTP, LSTM, concurrency 256", ratio(serve?.requestsPerSecond, fastapi?.requestsPerSecond), 20, false),
    goal("issue 22: tfbridge serve p99 ÷ FastAPI p99 over HTTP, LSTM, concurrency 256 (below)", ratio(serve?.p99Ms, fastapi?.p99Ms), 1, true, true),
    goal("issue 22 (the floor): Node http alone ÷ FastAPI, requests/s, LSTM answer, concurrency 256", ratio(floor?.requestsPerSecond, fastapi?.requestsPerSecond), 20, false),
  ];
}

const results = {
  schema: 1,
  quick,
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, python: info.worker.python, tensorflow: info.worker.tensorflow, tfjs: info.tfjs.tfjs },
  defaultLink: info.link,
  seconds: round((performance.now() - started) / 1000),
  transfer: transferSection,
  latency: latencySection,
  lstm: lstmSection,
  opFloor: opFloorSection,
  coldStart: coldStartSection,
  serving: servingSection,
  targets: targetsSection,
  applications: applicationsSection,
  goals,
};
writeFileSync(new URL("./results.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`);

const ms = (x: number) => `${round(x)} ms`;
const kib = (b: number) => (b >= 1024 * 1024 ? `${b / 1024 / 1024} MiB` : `${b / 1024} KiB`);
const out = [
  textTable(
    ["round trip", "binary MB/s", "ZeroMQ link MB/s", "pythonia MB/s", "binary ÷ pythonia", "memcpy MB/s", "fresh memcpy MB/s", "binary ÷ memcpy"],
    transferSection.rows.map((r) => [
      kib(r.bytes),
      String(r.binary.MBps),
      String(r.zeromq.MBps),
      r.pythonia ? String(r.pythonia.MBps) : "-",
      r.pythonia ? String(round(r.binary.MBps / r.pythonia.MBps)) : "-",
      String(r.memcpy.MBps),
      String(r.memcpyFresh.MBps),
      String(round(r.binary.MBps / r.memcpy.MBps)),
    ]),
  ),
  `proxies, 1M float32 to JS: toNDArray ${ms(transferSection.proxy1M.toNDArray.median)}, .tolist().valueOf() ${ms(transferSection.proxy1M.tolistValueOf.median)} (${transferSection.proxy1M.speedup}×)`,
  "",
  textTable(
    ["tiny round trip", "p50", "p99"],
    [
      [`bridge (echo), ${info.link} link`, ms(latencySection.bridge.median), ms(latencySection.bridge.p99)],
      ["bridge (echo), ZeroMQ link", ms(latencySection.bridgeZeromq.median), ms(latencySection.bridgeZeromq.p99)],
      ["bare ZeroMQ, no codec", ms(latencySection.bareZeromq.median), ms(latencySection.bareZeromq.p99)],
      ["raw pipe (floor)", ms(latencySection.rawPipe.median), ms(latencySection.rawPipe.p99)],
      ["raw pipe, beyond 5 ms of work in Python", ms(latencySection.rawPipeAfterWork5ms.median), ms(latencySection.rawPipeAfterWork5ms.p99)],
      ["pythonia call", ms(latencySection.pythonia.median), ms(latencySection.pythonia.p99)],
    ],
  ),
  `pipelined: ${latencySection.pipelinedPerSecond} requests/s, CPU per request: Node ${latencySection.pipelinedCpuMicros.node} µs, worker ${latencySection.pipelinedCpuMicros.worker} µs${base && latencySection.pipelinedCpuMicrosBase ? ` (--base ${base.rev.slice(0, 12)}: ${latencySection.pipelinedPerSecondBase}/s, ×${latencySection.pipelinedVsBase}; Node ${latencySection.pipelinedCpuMicrosBase.node} µs, worker ${latencySection.pipelinedCpuMicrosBase.worker} µs)` : " (no --base: nothing to compare with)"} (ZeroMQ link ${latencySection.pipelinedPerSecondZeromq}/s; pool of 2 ${latencySection.pipelinedPerSecondPool2}/s, on ZeroMQ ${latencySection.pipelinedPerSecondPool2Zeromq}/s)`,
  "",
  textTable(
    [`LSTM units 64, input [${lstmSection.batch}, 100, 16], sequences`, "median", "min"],
    [
      ["Python v1 Session, in worker (floor)", ms(lstmSection.sessionInWorker.median), ms(lstmSection.sessionInWorker.min)],
      [`Python v1 Session, through the bridge (${info.link} link)`, ms(lstmSection.bridge.median), ms(lstmSection.bridge.min)],
      ["Python v1 Session, through the bridge (ZeroMQ link)", ms(lstmSection.bridgeZeromq.median), ms(lstmSection.bridgeZeromq.min)],
      ["tfjs-node layers (op by op)", ms(lstmSection.tfjsNodeLayers.median), ms(lstmSection.tfjsNodeLayers.min)],
      ["tfjs-node SavedModel (one graph)", ms(lstmSection.tfjsNodeSavedModel.median), ms(lstmSection.tfjsNodeSavedModel.min)],
      ["tfjs JS CPU backend layers", ms(lstmSection.tfjsCpuLayers.median), ms(lstmSection.tfjsCpuLayers.min)],
    ],
  ),
  "",
  textTable(
    ["one LSTM step's ops in tfjs-node, each alone", "shapes", "median µs", "per step"],
    opFloorSection.ops.map((o) => [o.op, o.shapes, String(o.medianUs), String(o.perStep)]),
  ),
  `the ops of one step: ${opFloorSection.stepUs} µs; × ${opFloorSection.steps} steps = ${ms(opFloorSection.floorMs)}, ${round(opFloorSection.floorShare * 100)}% of the converted twin's ${ms(opFloorSection.twinMs)} (the floor is per-op dispatch)`,
  "",
  textTable(
    ["LSTM output", "in worker", `end to end, ${info.link}`, "overhead", "end to end, ZeroMQ", "overhead"],
    lstmSection.scaling.map((r) => [
      `${round(r.outputBytes / 2 ** 20)} MiB (batch ${r.batch})`,
      ms(r.local.inWorker.median),
      ms(r.local.total.median),
      `${r.local.overheadPct}%`,
      ms(r.zeromq.total.median),
      `${r.zeromq.overheadPct}%`,
    ]),
  ),
  `fixed per-call cost (smallest size, ${info.link} link): ${ms(lstmSection.fixedCostMs)}; a raw pipe's beyond 5 ms of work: ${ms(latencySection.rawPipeAfterWork5ms.median)}`,
  "",
  textTable(
    ["serving, one instance per request", "model", ...CONCURRENCY.map((c) => `c=${c}: req/s, p50/p99 ms`)],
    servingSection.rows.map((r) => [r.contender, r.model, ...r.results.map((x) => `${x.requestsPerSecond}, ${x.p50Ms}/${x.p99Ms}${x.errors ? ` (${x.errors} errors)` : ""}`)]),
  ),
  `batching exactness (8 rows merged vs run alone): ${Object.entries(servingSection.batchExactness)
    .map(([name, e]) => `${name} ${e.rowsDiffering}/${e.rows} rows differ, max |Δ| ${e.maxAbsError.toExponential(1)}`)
    .join("; ")}`,
  "",
  textTable(
    ["reference model, batch 8: median ms (max |Δ| from the Session)", "Session in worker", "through the bridge", "converted: tfjs-node", "JS CPU", "WASM", "SavedModel in tfjs-node", "ONNX: onnxruntime-node", "onnxruntime-web (WASM)", "tfjs-node ÷ Session"],
    targetsSection.map((r) => {
      const cell = (t: { medianMs: number; maxAbsError: number } | null) => (t ? `${ms(t.medianMs)} (${t.maxAbsError.toExponential(1)})` : "-");
      return [r.model, ms(r.sessionInWorker), ms(r.bridge), cell(r.tfjsNodeLayers), cell(r.jsCpu), cell(r.wasm), cell(r.tfjsNodeSavedModel), cell(r.onnxruntimeNode), cell(r.onnxruntimeWeb), String(r.tfjsNodeVsSession)];
    }),
  ),
  "",
  ...(applicationsSection
    ? [
        textTable(
          ["Keras Application, batch 1, 96×96×3", "Session in worker", "through the bridge", "converted: tfjs-node", "JS CPU", "WASM", "tfjs-node ÷ Session"],
          applicationsSection.map((r) => [r.model, ms(r.sessionInWorker), ms(r.bridge), ms(r.tfjsNode), ms(r.jsCpu), r.wasm === null ? "-" : ms(r.wasm), String(r.tfjsNodeVsSession)]),
        ),
        "",
      ]
    : []),
  `cold start: bridge to first LSTM ${ms(coldStartSection.bridgeToFirstLstm.median)} in a fresh interpreter, ${ms(coldStartSection.forkedBridgeToFirstLstm.median)} forked from the fork server (${coldStartSection.forkedSpeedup}×); bare import tensorflow ${ms(coldStartSection.pythonImportTensorflow.median)}`,
  "",
  textTable(
    ["goal", "measured", "target", "met"],
    goals.map((g) => [g.name, String(g.measured), `${g.atMost ? "≤" : "≥"} ${g.target}`, g.met ? "yes" : "NO"]),
  ),
  "",
  `${results.seconds} s; written to bench/results.json`,
];
process.stdout.write(`${out.join("\n")}\n`);

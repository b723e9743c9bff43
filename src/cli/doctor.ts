import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { Bridge } from "../bridge.js";
import type { LinkKind } from "../link/link.js";
import { onnxRuntimeVersions } from "../onnx/runtime.js";
import { type ParityEnvironment, describeRuntimes, parityEnvironment } from "../parity/environment.js";
import { SETUP_COMMAND, findPython, requirementsHash } from "../setup/env.js";
import { type TfjsInfo, tfjsInfo } from "../tfjs/runtime.js";
import type { WorkerInfo } from "../worker/info.js";
import { parseFlags } from "./args.js";
import type { CommandContext } from "./context.js";
import { readStamp } from "./setup.js";

export const DOCTOR_USAGE = `usage: tfbridge doctor [--json]

Checks what tfbridge needs and says, for anything missing, the command that fixes it: the Python env
(which one, and why), its worker's versions and link (local when the shared-memory addon is built),
tfjs-node's native addon, that both run the same TensorFlow version, the optional ONNX parts
(tf2onnx, onnx, onnxruntime-node and -web: absent is fine, half installed is a problem), and each
runtime's CPU ISA extensions and oneDNN state (TensorFlow's oneDNN kernels change results on some CPUs: parity
explains those differences, and its verdicts hold for CPUs like this one).

options:
  --json      the report as JSON on stdout
  --verbose   stacks on errors, TensorFlow's C++ logs and the worker's stderr

examples:
  npx tfbridge doctor
  npx tfbridge doctor --json | jq .problems

Exit status: 0 when all is well, 1 when something is missing (each problem comes with its fix).`;

/** Something missing or wrong, and the command that fixes it. */
export interface Problem {
  problem: string;
  fix: string;
}

export interface DoctorReport {
  python: { path: string; source: string };
  worker: WorkerInfo | null;
  /** The link a Bridge uses by default here: `zeromq` means the local link's addon is not built. */
  link: LinkKind | null;
  tfjs: TfjsInfo | null;
  /** Each runtime's CPU ISA extensions and oneDNN state: what decides whether parity verdicts carry over. */
  runtimes: ParityEnvironment | null;
  /** The optional ONNX parts (`setup --onnx`): tf2onnx and onnx in the env, onnxruntime-node and -web here; null where missing. */
  onnx: OnnxParts;
  problems: Problem[];
  ok: boolean;
}

/** What `convert --to onnx` needs, each version or null. */
export interface OnnxParts {
  tf2onnx: string | null;
  onnx: string | null;
  "onnxruntime-node": string | null;
  "onnxruntime-web": string | null;
}

/** The ONNX tools' versions in the env, read from their metadata (nothing is imported: TensorFlow would load). */
function onnxTools(python: string): { tf2onnx: string | null; onnx: string | null } {
  const script = "import json, importlib.metadata as m\ndef v(p):\n  try: return m.version(p)\n  except m.PackageNotFoundError: return None\nprint(json.dumps({'tf2onnx': v('tf2onnx'), 'onnx': v('onnx')}))";
  try {
    return JSON.parse(execFileSync(python, ["-c", script], { encoding: "utf8", timeout: 60_000 })) as { tf2onnx: string | null; onnx: string | null };
  } catch {
    return { tf2onnx: null, onnx: null };
  }
}

/** The parts' versions (null: missing), and what each onnxruntime package that did not load said. */
async function onnxParts(python: string | null): Promise<{ parts: OnnxParts; loadErrors: string[] }> {
  const runtimes = await onnxRuntimeVersions();
  const version = (v: string | { error: string }) => (typeof v === "string" ? v : null);
  const loadErrors = Object.values(runtimes).flatMap((v) => (typeof v === "string" ? [] : [v.error]));
  return { parts: { ...(python ? onnxTools(python) : { tf2onnx: null, onnx: null }), "onnxruntime-node": version(runtimes["onnxruntime-node"]), "onnxruntime-web": version(runtimes["onnxruntime-web"]) }, loadErrors };
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0]!;
}

/** Every check, each failure with its fix; nothing here throws for a missing part. */
export async function diagnose(context: CommandContext): Promise<DoctorReport> {
  const { python, source } = findPython();
  const problems: Problem[] = [];
  const setupFix = source === "TFBRIDGE_PYTHON" ? `point TFBRIDGE_PYTHON at a Python with tfbridge's requirements, or unset it and run \`${SETUP_COMMAND}\`` : `run \`${SETUP_COMMAND}\``;
  let worker: WorkerInfo | null = null;
  let link: LinkKind | null = null;
  if (!existsSync(python)) {
    problems.push({ problem: `no Python env: ${python} does not exist (${source === "setup" ? "tfbridge setup has not run" : `from ${source}`})`, fix: setupFix });
  } else {
    if (source === "setup" && readStamp(dirname(dirname(python)))?.requirements !== requirementsHash()) {
      problems.push({ problem: `the env at ${dirname(dirname(python))} is incomplete or for other requirements`, fix: setupFix });
    }
    try {
      await using bridge = await Bridge.start({ forwardStderr: context.verbose });
      worker = bridge.info;
      link = bridge.link;
      if (link !== "local") {
        problems.push({ problem: "the local link's shared-memory addon is not built: Bridges fall back to ZeroMQ (slower)", fix: source === "clone" ? "run `make setup` in the clone" : `run \`${SETUP_COMMAND}\`` });
      }
    } catch (e) {
      problems.push({ problem: `the Python worker does not start: ${firstLine(e)}`, fix: setupFix });
    }
  }
  let tfjs: TfjsInfo | null = null;
  try {
    tfjs = await tfjsInfo();
  } catch (e) {
    problems.push({ problem: `tfjs-node is not usable: ${firstLine(e)}`, fix: source === "clone" ? "run `make setup` in the clone" : setupFix });
  }
  if (worker && tfjs && (tfjs.backend !== "tensorflow" || tfjs.tensorflow !== worker.tensorflow)) {
    problems.push({
      problem: `tfjs-node runs backend ${tfjs.backend} on TensorFlow ${tfjs.tensorflow}, the worker TensorFlow ${worker.tensorflow}`,
      fix: source === "clone" ? "run `make setup` in the clone" : setupFix,
    });
  }
  const runtimes = worker && tfjs ? await parityEnvironment(worker) : null;
  const { parts: onnx, loadErrors } = await onnxParts(existsSync(python) ? python : null);
  const onnxFound = Object.values(onnx).filter((v) => v !== null).length;
  // Optional: absent is fine, half there is a problem (convert --to onnx would fail midway).
  if (onnxFound > 0 && onnxFound < 4) {
    const missing = Object.entries(onnx).filter(([, v]) => v === null).map(([k]) => k);
    const why = loadErrors.length ? ` (${loadErrors.map((e) => e.split("\n")[0]).join("; ")})` : "";
    problems.push({ problem: `the optional ONNX parts are incomplete: ${missing.join(", ")} missing${why}`, fix: source === "clone" ? "run `make setup` in the clone" : `run \`${SETUP_COMMAND} --onnx\`` });
  }
  return { python: { path: python, source }, worker, link, tfjs, runtimes, onnx, problems, ok: problems.length === 0 };
}

export function formatDoctor(r: DoctorReport): string {
  const lines = [`python env:    ${r.python.path} (from ${r.python.source})`];
  const w = r.worker;
  if (w) lines.push(`python worker: pid ${w.pid}, Python ${w.python}, NumPy ${w.numpy}, TensorFlow ${w.tensorflow}, Keras ${w.keras}, wire v${w.protocol}, ${r.link} link`);
  const t = r.tfjs;
  if (t) lines.push(`tfjs-node:     backend ${t.backend}, TensorFlow C library ${t.tensorflow}, TF.js ${t.tfjs}, backends ${t.backends.join(", ")}`);
  if (r.runtimes) lines.push(...describeRuntimes(r.runtimes).map((line) => `runtime:       ${line}`));
  const o = r.onnx;
  lines.push(
    Object.values(o).every((v) => v === null)
      ? `onnx:          not installed (optional, for convert --to onnx: ${SETUP_COMMAND} --onnx)`
      : `onnx:          tf2onnx ${o.tf2onnx ?? "missing"}, onnx ${o.onnx ?? "missing"}; onnxruntime-node ${o["onnxruntime-node"] ?? "missing"}, onnxruntime-web ${o["onnxruntime-web"] ?? "missing"}`,
  );
  for (const p of r.problems) lines.push(`PROBLEM: ${p.problem}\n  fix: ${p.fix}`);
  if (r.ok) lines.push("ok: tfjs-node runs natively on the same TensorFlow version as the worker");
  return lines.join("\n");
}

/** `tfbridge doctor`. */
export async function doctorCommand(args: string[], context: CommandContext): Promise<number> {
  const v = parseFlags(args, { json: { type: "boolean" } });
  const report = await diagnose(context);
  process.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDoctor(report)}\n`);
  return report.ok ? 0 : 1;
}

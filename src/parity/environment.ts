import { readFileSync } from "node:fs";
import { arch, cpus, platform } from "node:os";
import { readProtocolFile } from "../paths.js";
import { tfjsInfo } from "../tfjs/runtime.js";
import type { CpuInfo, OnednnInfo, WorkerInfo } from "../worker/info.js";
import type { ReportEnvironment } from "./html-report.js";

const RUNTIME = readProtocolFile<{ isaFlags: string[]; onednnEnv: string }>("runtime.json");

/**
 * What decides whether a verdict holds elsewhere: each runtime's TensorFlow, CPU (model and the ISA
 * extensions that select kernels) and oneDNN state. A verdict on a CPU with other ISA extensions, or
 * with oneDNN switched otherwise, says nothing about this one.
 */
export interface ParityEnvironment {
  python: { tensorflow: string; keras: string; cpu: CpuInfo; onednn: OnednnInfo };
  tfjsNode: { tensorflow: string; tfjs: string; cpu: CpuInfo; onednn: OnednnInfo };
}

/** This machine's CPU, as the Python worker reports its own (same ISA list: protocol/runtime.json). */
export function localCpu(): CpuInfo {
  let flags = new Set<string>();
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => /^(flags|Features)\s*:/.test(l));
    if (line) flags = new Set(line.split(":")[1]!.trim().split(/\s+/));
  } catch {
    // not Linux: no ISA list, the model name still says what ran
  }
  return { model: cpus()[0]?.model ?? "unknown", arch: arch(), isa: RUNTIME.isaFlags.filter((f) => flags.has(f)) };
}

/**
 * oneDNN's switch for tfjs-node in this process, by TensorFlow's rule (tfjs-node's binding cannot ask
 * the library): on by default in the x86-64 Linux and Windows builds, off when the variable is `0` or
 * `false`. Measured on an AVX-512 EPYC: tfjs-node's kernels follow it.
 */
export function localOnednn(): OnednnInfo {
  const env = process.env[RUNTIME.onednnEnv] ?? null;
  const builtWithIt = arch() === "x64" && (platform() === "linux" || platform() === "win32");
  return { enabled: builtWithIt && !["0", "false"].includes((env ?? "").toLowerCase()), env };
}

/** Both runtimes' side of {@link ParityEnvironment}. */
export async function parityEnvironment(worker: WorkerInfo): Promise<ParityEnvironment> {
  const tfjs = await tfjsInfo();
  return {
    python: { tensorflow: worker.tensorflow, keras: worker.keras, cpu: worker.cpu, onednn: worker.onednn },
    tfjsNode: { tensorflow: tfjs.tensorflow, tfjs: tfjs.tfjs, cpu: localCpu(), onednn: localOnednn() },
  };
}

/** One line per runtime: its CPU ISA and oneDNN state, as reports print them. */
export function describeRuntimes(env: ParityEnvironment): string[] {
  const onednn = (o: OnednnInfo) => `oneDNN ${o.enabled ? "on" : "off"} (${RUNTIME.onednnEnv}=${o.env ?? "unset"})`;
  const cpu = (c: CpuInfo) => `${c.model} [${c.isa.join(" ") || "no ISA list"}]`;
  return [
    `Python TensorFlow ${env.python.tensorflow}: ${onednn(env.python.onednn)} on ${cpu(env.python.cpu)}`,
    `tfjs-node (TF C library ${env.tfjsNode.tensorflow}): ${onednn(env.tfjsNode.onednn)} on ${cpu(env.tfjsNode.cpu)}`,
  ];
}

/** What a parity report was produced with: the Python worker's versions, TF.js's, Node's, the machine. */
export async function reportEnvironment(worker: WorkerInfo): Promise<ReportEnvironment> {
  const env = await parityEnvironment(worker);
  const [pythonRuntime, tfjsRuntime] = describeRuntimes(env);
  return {
    "Python TensorFlow": worker.tensorflow,
    Keras: worker.keras,
    NumPy: worker.numpy,
    Python: worker.python,
    "TF.js": env.tfjsNode.tfjs,
    "tfjs-node's TensorFlow C library": env.tfjsNode.tensorflow,
    "Python runtime": pythonRuntime!,
    "tfjs-node runtime": tfjsRuntime!,
    Node: process.versions.node,
    platform: `${platform()} ${arch()}`,
    date: new Date().toISOString(),
  };
}

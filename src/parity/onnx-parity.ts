import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModelHandle, TensorInfo } from "../models/handle.js";
import type { OnnxExport } from "../models/info.js";
import { ConvertError } from "../errors.js";
import { OnnxModel } from "../onnx/model.js";
import { ONNX_RUNTIMES, type OnnxRuntimeKind, loadOnnxRuntime } from "../onnx/runtime.js";
import type { NDArray } from "../wire/ndarray.js";
import { type Comparison, type Tolerance, compareArrays, normwise } from "./compare.js";
import { localCpu } from "./environment.js";
import type { CpuInfo, OnednnInfo } from "../worker/info.js";

/**
 * The bound an ONNX Runtime layer output is held to, normwise (see {@link normwise}): every element
 * within `atol + rtol·max|expected|` of the Python Session. ONNX Runtime's kernels are not TensorFlow's
 * (MLAS GEMMs and its own activations, another summation order), so bit-exactness is not expected; the
 * measured distances per layer class are in docs/onnx.md, all well inside this.
 */
export const DEFAULT_ONNX_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-5 };

/** One layer output, from the per-layer ONNX graph, on each runtime against the Session. */
export interface OnnxLayerParity {
  /** The output's name: `layer`, `layer:i`, `dense@1`, `base/conv`, as the worker names it. */
  name: string;
  layer: string;
  class: string;
  /** Per runtime: its output against the Python Session's, held to the bound. */
  runtimes: Partial<Record<OnnxRuntimeKind, Comparison>>;
  /** Bit-identical to the Session on every runtime. */
  exact: boolean;
  /** Why it cannot pass whatever the bound (a dtype or shape that differs), else null. */
  reason: string | null;
  pass: boolean;
}

/** One of the model's outputs, from the ONNX file a user gets (no layer outputs), against the unmarked Session. */
export interface OnnxOutputParity {
  name: string;
  runtimes: Partial<Record<OnnxRuntimeKind, Comparison>>;
  reason: string | null;
  pass: boolean;
}

/** The ONNX verdict for one model, layer by layer: `parity.json` of `convert --to onnx`. */
export interface OnnxParityReport {
  target: "onnx";
  model: string;
  inputs: TensorInfo[];
  inputShapes: number[][];
  passed: boolean;
  /** The Session's TensorFlow, CPU and oneDNN state; the CPU onnxruntime ran on. */
  environment: { python: { tensorflow: string; keras: string; cpu: CpuInfo; onednn: OnednnInfo }; onnxRuntime: { cpu: CpuInfo } };
  /** tf2onnx, onnx and opset of the conversion; each runtime's version. */
  conversion: { tf2onnx: string; onnx: string; opset: number };
  runtimeVersions: Partial<Record<OnnxRuntimeKind, string>>;
  /** The bound, normwise per layer output. */
  tolerance: Tolerance;
  layers: OnnxLayerParity[];
  modelOutputs: OnnxOutputParity[];
  /** The first layer output beyond the bound on some runtime (null: none). */
  firstDivergentLayer: string | null;
  /** The first layer output that is not bit-identical on some runtime (informative: ONNX kernels are not TF's). */
  firstInexactLayer: string | null;
  exactLayers: number;
  /** Per runtime, the largest abs error over every layer output and model output. */
  worstAbsError: Partial<Record<OnnxRuntimeKind, number>>;
  worstUlp: Partial<Record<OnnxRuntimeKind, number>>;
}

/** Options of {@link runOnnxParity}. */
export interface OnnxParityOptions {
  /** Inputs in the model's input order. */
  inputs: NDArray[];
  /** The ONNX file users get (the model's outputs only), and its export record. */
  model: { file: string; exported: OnnxExport };
  /** The same graph with every layer output as an ONNX output (`exportOnnx(..., { outputs: "layers" })`). */
  layers: { file: string; exported: OnnxExport };
  /** Default: both. */
  runtimes?: readonly OnnxRuntimeKind[];
  tolerance?: Tolerance;
}

/**
 * One output against the Session's: floats within the bound (normwise); integers, bools and strings
 * (an argmax, a lookup) equal element for element. A dtype or shape that differs cannot pass.
 */
function compareOutput(actual: NDArray, expected: NDArray, tolerance: Tolerance): Comparison {
  const c = compareArrays(actual, expected, normwise(tolerance, expected));
  const sameShape = actual.shape.length === expected.shape.length && actual.shape.every((d, i) => d === expected.shape[i]);
  if (c.comparable || actual.dtype !== expected.dtype || !sameShape) return c;
  let outside = 0;
  let maxAbsError = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const [a, e] = [actual.data[i], expected.data[i]];
    if (a === e) continue;
    outside++;
    maxAbsError = typeof a === "string" || typeof e === "string" ? Infinity : Math.max(maxAbsError, Math.abs(Number(a) - Number(e)));
  }
  return { ...c, comparable: true, elements: expected.data.length, outside, maxAbsError, pass: outside === 0 };
}

/** Why a comparison cannot pass whatever the bound, or null. */
function mismatch(runtime: OnnxRuntimeKind, c: Comparison): string | null {
  if (c.comparable) return null;
  if (c.dtype.actual !== c.dtype.expected) return `${runtime} gives ${c.dtype.actual} where the Session gives ${c.dtype.expected}`;
  return `${runtime} gives shape [${c.shape.actual}] where the Session gives [${c.shape.expected}]`;
}

/** The first mismatch over the runtimes, or null. */
function reasonOf(compared: Partial<Record<OnnxRuntimeKind, Comparison>>): string | null {
  return (Object.entries(compared) as [OnnxRuntimeKind, Comparison][]).map(([r, c]) => mismatch(r, c)).find((m) => m !== null) ?? null;
}

async function runOn(runtime: OnnxRuntimeKind, file: string, label: string, feeds: Record<string, NDArray>): Promise<Record<string, NDArray>> {
  const model = await OnnxModel.load(runtime, file, label);
  try {
    return await model.run(feeds);
  } finally {
    await model.release();
  }
}

/**
 * Runs both ONNX files on onnxruntime-node and onnxruntime-web (WASM) with the very inputs given to
 * the Python Session, and compares every layer output (from the per-layer graph) and every model
 * output (from the user's file) element by element: abs/rel error, ULP histogram, per-timestep error.
 * @throws {SetupError} onnxruntime is not installed. @throws {ConvertError} onnxruntime refuses a file.
 */
export async function runOnnxParity(handle: ModelHandle, options: OnnxParityOptions): Promise<OnnxParityReport> {
  const { inputs } = options;
  handle.orderInputs(inputs);
  const runtimes = options.runtimes ?? ONNX_RUNTIMES;
  if (runtimes.length === 0) throw new ConvertError("an ONNX proof needs at least one runtime (onnxruntime-node, onnxruntime-web)");
  const tolerance = options.tolerance ?? DEFAULT_ONNX_TOLERANCE;
  const worker = await handle.workerInfo();
  const environment = { python: { tensorflow: worker.tensorflow, keras: worker.keras, cpu: worker.cpu, onednn: worker.onednn }, onnxRuntime: { cpu: localCpu() } };
  const session = await handle.predict(inputs, { outputs: "layers" });
  const unmarked = await handle.predict(inputs);
  const feeds = Object.fromEntries(handle.inputs.map((spec, i) => [spec.name, inputs[i]!]));

  const layerRuns: Partial<Record<OnnxRuntimeKind, Record<string, NDArray>>> = {};
  const modelRuns: Partial<Record<OnnxRuntimeKind, Record<string, NDArray>>> = {};
  const runtimeVersions: Partial<Record<OnnxRuntimeKind, string>> = {};
  for (const runtime of runtimes) {
    const ort = await loadOnnxRuntime(runtime);
    runtimeVersions[runtime] = ort.env.versions.common ?? "unknown";
    layerRuns[runtime] = await runOn(runtime, options.layers.file, "the per-layer ONNX graph", feeds);
    modelRuns[runtime] = await runOn(runtime, options.model.file, "the model's ONNX graph", feeds);
    const missing = [...handle.layers.map((l) => l.name).filter((n) => !Object.hasOwn(layerRuns[runtime]!, n)), ...unmarked.names.filter((n) => !Object.hasOwn(modelRuns[runtime]!, n))];
    if (missing.length) throw new ConvertError(`the ONNX graphs have no output named ${missing.map((n) => JSON.stringify(n)).join(", ")} (outputs are named as the Session names the model's outputs and layers)`);
  }
  const compareOn = (runs: typeof layerRuns, name: string, expected: NDArray) => {
    const found: Partial<Record<OnnxRuntimeKind, Comparison>> = {};
    for (const runtime of runtimes) found[runtime] = compareOutput(runs[runtime]![name]!, expected, tolerance);
    return found;
  };
  const layers: OnnxLayerParity[] = handle.layers.map((info) => {
    const compared = compareOn(layerRuns, info.name, session.outputs[info.name]!);
    const all = Object.values(compared);
    return { name: info.name, layer: info.layer, class: info.class, runtimes: compared, exact: all.every((c) => c.comparable && c.maxUlp === 0 && c.outside === 0 && c.maxAbsError === 0), reason: reasonOf(compared), pass: all.every((c) => c.pass) };
  });
  const modelOutputs: OnnxOutputParity[] = unmarked.names.map((name) => {
    const compared = compareOn(modelRuns, name, unmarked.outputs[name]!);
    return { name, runtimes: compared, reason: reasonOf(compared), pass: Object.values(compared).every((c) => c.pass) };
  });
  const worst = (pick: (c: Comparison) => number) =>
    Object.fromEntries(runtimes.map((r) => [r, Math.max(0, ...[...layers, ...modelOutputs].map((l) => pick(l.runtimes[r]!)))])) as Partial<Record<OnnxRuntimeKind, number>>;
  return {
    target: "onnx",
    model: String(handle.config.config.name ?? "model"),
    inputs: handle.inputs,
    inputShapes: inputs.map((x) => [...x.shape]),
    passed: layers.every((l) => l.pass) && modelOutputs.every((o) => o.pass),
    environment,
    conversion: { tf2onnx: options.model.exported.tf2onnx, onnx: options.model.exported.onnx, opset: options.model.exported.opset },
    runtimeVersions,
    tolerance,
    layers,
    modelOutputs,
    firstDivergentLayer: layers.find((l) => !l.pass)?.name ?? null,
    firstInexactLayer: layers.find((l) => !l.exact)?.name ?? null,
    exactLayers: layers.filter((l) => l.exact).length,
    worstAbsError: worst((c) => c.maxAbsError),
    worstUlp: worst((c) => c.maxUlp),
  };
}

/**
 * Exports the model twice in a scratch folder (the user's graph, and the same with every layer output)
 * and proves them on onnxruntime-node and onnxruntime-web against the Python Session. `keep`: write
 * the user's file to this path. The scratch folder is removed whatever happens.
 */
export async function proveOnnx(handle: ModelHandle, inputs: NDArray[], options: { opset?: number; tolerance?: Tolerance; runtimes?: readonly OnnxRuntimeKind[]; keep?: string } = {}): Promise<OnnxParityReport> {
  const scratch = mkdtempSync(join(tmpdir(), "tfbridge-onnx-"));
  try {
    const modelFile = options.keep ?? join(scratch, "model.onnx");
    const layersFile = join(scratch, "layers.onnx");
    const model = { file: modelFile, exported: await handle.exportOnnx(modelFile, { opset: options.opset }) };
    const layers = { file: layersFile, exported: await handle.exportOnnx(layersFile, { opset: options.opset, outputs: "layers" }) };
    return await runOnnxParity(handle, { inputs, model, layers, runtimes: options.runtimes, tolerance: options.tolerance });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}


import type { Bridge } from "../bridge.js";
import { TfbridgeError } from "../errors.js";
import type { ModelHandle } from "../models/handle.js";
import type { OnnxRuntimeKind } from "../onnx/runtime.js";
import { type ModelSweepOptions, type SweepFailure, openSweepModel, sweepModels } from "./model-sweep.js";
import { seededModelInputs } from "./model-parity.js";
import { type OnnxParityReport, proveOnnx } from "./onnx-parity.js";

/** How one layer class fared on ONNX Runtime over a sweep (both runtimes together). */
export interface OnnxClassStats {
  outputs: number;
  /** Outputs bit-identical to the Session on every runtime. */
  exact: number;
  worstAbsError: number;
  worstUlp: number;
  /** The largest share of the bound an output of this class used (max abs error ÷ its normwise bound). */
  worstShareOfBound: number;
}

/** What `tfbridge parity sweep --runtime onnx --json` prints. */
export interface OnnxSweepSummary {
  models: number;
  failed: number;
  failures: SweepFailure[];
  /** tf2onnx, opset and each runtime's version, from the first model converted. */
  conversion: OnnxParityReport["conversion"] | null;
  runtimeVersions: Partial<Record<OnnxRuntimeKind, string>>;
  tolerance: OnnxParityReport["tolerance"] | null;
  classes: Record<string, OnnxClassStats>;
  /** Worst abs error per runtime over every layer output of every model. */
  worstAbsError: Partial<Record<OnnxRuntimeKind, number>>;
}

/**
 * The sweep's models (the named reference models and `count` random architectures, with the same
 * weights and inputs as the TF.js sweep) through tf2onnx, each layer proved on onnxruntime-node and
 * onnxruntime-web: the measured distance per layer class behind docs/onnx.md's table.
 */
export async function runOnnxSweep(bridge: Bridge, options: Omit<ModelSweepOptions, "tolerance"> = {}): Promise<OnnxSweepSummary> {
  const seed = options.seed ?? 0;
  const cases = sweepModels(options);
  const summary: OnnxSweepSummary = { models: cases.length, failed: 0, failures: [], conversion: null, runtimeVersions: {}, tolerance: null, classes: {}, worstAbsError: {} };
  for (const [i, item] of cases.entries()) {
    options.onModel?.(i, cases.length, item.name);
    let handle: ModelHandle | undefined;
    try {
      handle = await openSweepModel(bridge, item, seed, i);
      const inputs = seededModelInputs(handle.config, handle.inputs, item.batch ?? 3, seed * 1000 + i);
      const report = await proveOnnx(handle, inputs);
      summary.conversion ??= report.conversion;
      summary.tolerance ??= report.tolerance;
      Object.assign(summary.runtimeVersions, report.runtimeVersions);
      for (const layer of report.layers) {
        const entry = (summary.classes[layer.class] ??= { outputs: 0, exact: 0, worstAbsError: 0, worstUlp: 0, worstShareOfBound: 0 });
        entry.outputs++;
        if (layer.exact) entry.exact++;
        for (const [runtime, c] of Object.entries(layer.runtimes) as [OnnxRuntimeKind, NonNullable<(typeof layer.runtimes)[OnnxRuntimeKind]>][]) {
          entry.worstAbsError = Math.max(entry.worstAbsError, c.maxAbsError);
          entry.worstUlp = Math.max(entry.worstUlp, c.maxUlp);
          entry.worstShareOfBound = Math.max(entry.worstShareOfBound, c.tolerance.atol > 0 ? c.maxAbsError / c.tolerance.atol : 0);
          summary.worstAbsError[runtime] = Math.max(summary.worstAbsError[runtime] ?? 0, c.maxAbsError);
        }
      }
      if (!report.passed) {
        const bad = report.layers.find((l) => !l.pass);
        summary.failures.push({ model: item.name, reason: bad ? `${bad.name} (${bad.class}) beyond the bound` : "a model output beyond the bound", firstDivergentLayer: report.firstDivergentLayer });
      }
    } catch (error) {
      summary.failures.push({ model: item.name, reason: error instanceof TfbridgeError ? `${error.name}: ${error.message}` : String(error) });
    } finally {
      await handle?.dispose();
    }
  }
  summary.failed = summary.failures.length;
  return summary;
}

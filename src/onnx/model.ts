import { readFileSync } from "node:fs";
import { ConvertError } from "../errors.js";
import type { DataFor, DType } from "../wire/dtypes.js";
import { type NDArray, ndarray } from "../wire/ndarray.js";
import { type OnnxRuntimeKind, type OrtModule, type OrtSession, loadOnnxRuntime } from "./runtime.js";

/**
 * onnxruntime's own log lines (shape-merge warnings, a failing kernel's error) go to stderr from C++;
 * quiet when `TF_CPP_MIN_LOG_LEVEL` asks for quiet (≥ 1, as the CLI sets without --verbose): a
 * failure reaches the caller as a typed error anyway.
 */
function sessionOptions(): Record<string, unknown> {
  return Number(process.env.TF_CPP_MIN_LOG_LEVEL ?? 0) >= 1 ? { logSeverityLevel: 4 } : {};
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0]!;
}

/**
 * One ONNX file loaded in onnxruntime-node or onnxruntime-web (WASM), run on tfbridge's NDArrays.
 * onnxruntime's tensor types are named as tfbridge's dtypes (`float32`, `int64`, `bool`, …).
 */
export class OnnxModel {
  private constructor(
    readonly runtime: OnnxRuntimeKind,
    readonly file: string,
    /** How messages name it (the file, or what it is). */
    readonly label: string,
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
  ) {}

  /**
   * @throws {SetupError} the runtime is not installed.
   * @throws {ConvertError} onnxruntime refuses the file (naming it and onnxruntime's reason: an opset
   * it does not implement, a corrupt graph).
   */
  static async load(runtime: OnnxRuntimeKind, file: string, label: string = file): Promise<OnnxModel> {
    const ort = await loadOnnxRuntime(runtime);
    try {
      // onnxruntime-web reads bytes in Node (its path loader fetches URLs); -node reads the path itself.
      const session = await ort.InferenceSession.create(runtime === "onnxruntime-web" ? new Uint8Array(readFileSync(file)) : file, sessionOptions());
      return new OnnxModel(runtime, file, label, ort, session);
    } catch (e) {
      throw new ConvertError(`${label}: ${runtime} refuses this ONNX model: ${firstLine(e)}`, { file });
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /**
   * Runs the model on inputs by ONNX input name; every output, by name.
   * @throws {ConvertError} an input missing, or onnxruntime failing to run the graph (a conversion that
   * loads but cannot run: tf2onnx's, not the inputs', when they fit the signature).
   */
  async run(inputs: Readonly<Record<string, NDArray>>): Promise<Record<string, NDArray>> {
    const feeds: Record<string, InstanceType<OrtModule["Tensor"]>> = {};
    for (const name of this.session.inputNames) {
      const x = Object.hasOwn(inputs, name) ? inputs[name] : undefined;
      if (!x) throw new ConvertError(`${this.label}: no input given for the ONNX input ${name}`, { file: this.file });
      feeds[name] = new this.ort.Tensor(x.dtype, x.data as ArrayBufferView, x.shape);
    }
    let results: Awaited<ReturnType<OrtSession["run"]>>;
    try {
      results = await this.session.run(feeds);
    } catch (e) {
      throw new ConvertError(`${this.label}: ${this.runtime} could not run it: ${firstLine(e)}`, { file: this.file });
    }
    const outputs: Record<string, NDArray> = {};
    for (const [name, t] of Object.entries(results)) {
      outputs[name] = ndarray(t.type as DType, [...t.dims], t.data as DataFor[DType]);
    }
    return outputs;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

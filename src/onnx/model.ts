import { readFileSync } from "node:fs";
import { ConvertError } from "../errors.js";
import type { DataFor, DType } from "../wire/dtypes.js";
import { type NDArray, ndarray } from "../wire/ndarray.js";
import { type OnnxRuntimeKind, type OrtModule, type OrtSession, loadOnnxRuntime } from "./runtime.js";

/**
 * One ONNX file loaded in onnxruntime-node or onnxruntime-web (WASM), run on tfbridge's NDArrays.
 * onnxruntime's tensor types are named as tfbridge's dtypes (`float32`, `int64`, `bool`, …).
 */
export class OnnxModel {
  private constructor(
    readonly runtime: OnnxRuntimeKind,
    readonly file: string,
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
  ) {}

  /**
   * @throws {SetupError} the runtime is not installed.
   * @throws {ConvertError} onnxruntime refuses the file (naming it and onnxruntime's reason: an opset
   * it does not implement, a corrupt graph).
   */
  static async load(runtime: OnnxRuntimeKind, file: string): Promise<OnnxModel> {
    const ort = await loadOnnxRuntime(runtime);
    try {
      // onnxruntime-web reads bytes in Node (its path loader fetches URLs); -node reads the path itself.
      const session = await ort.InferenceSession.create(runtime === "onnxruntime-web" ? new Uint8Array(readFileSync(file)) : file);
      return new OnnxModel(runtime, file, ort, session);
    } catch (e) {
      throw new ConvertError(`${file}: ${runtime} refuses this ONNX model: ${String((e as Error)?.message ?? e).split("\n")[0]}`, { file });
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Runs the model on inputs by ONNX input name; every output, by name. */
  async run(inputs: Readonly<Record<string, NDArray>>): Promise<Record<string, NDArray>> {
    const feeds: Record<string, InstanceType<OrtModule["Tensor"]>> = {};
    for (const name of this.session.inputNames) {
      const x = inputs[name];
      if (!x) throw new ConvertError(`${this.file}: no input given for the ONNX input ${name}`, { file: this.file });
      feeds[name] = new this.ort.Tensor(x.dtype, x.data as ArrayBufferView, x.shape);
    }
    const results = await this.session.run(feeds);
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

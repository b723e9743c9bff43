/**
 * `tfbridge/parity`: proof that a model's TF.js twin computes what Python's TensorFlow does, layer by
 * layer, with every difference explained by experiment or failed; the model sweep behind the
 * layer table; array comparison (ULP, allclose); the TF.js twin itself.
 * @module tfbridge/parity
 */
export {
  type DivergenceCause, type LayerParity, type ModelOutputParity, type ModelParityOptions, type ModelParityReport, type Probe, type StatedTolerance, type Verdict,
  DEFAULT_CPU_TOLERANCE, runModelParity, seededModelInputs,
} from "../parity/model-parity.js";
export { type ParityEnvironment, reportEnvironment } from "../parity/environment.js";
export { type ControlRun, type ControlTwin, OnednnOffWorker } from "../parity/onednn-off.js";
export { type ClassStats, type ModelSweepOptions, type ModelSweepSummary, type SweepFailure, type SweepModel, randomWeights, runModelSweep } from "../parity/model-sweep.js";
export { type LstmSweepCase, lstmSweepCases, lstmSweepModels } from "../parity/lstm-sweep.js";
export { seededInput } from "../random.js";
export { formatModelParityReport, formatModelSweep, layerTable } from "../parity/model-report.js";
export { type ReportEnvironment, parityHtml } from "../parity/html-report.js";
export { REFERENCE_MODELS } from "../parity/reference-models.js";
export { randomModel } from "../parity/model-generator.js";
export { type Comparison, type Tolerance, type WorstElement, ULP_BUCKETS, compareArrays, formatComparison, normwise } from "../parity/compare.js";
export { ulpDistance32, ulpDistance64 } from "../parity/ulp.js";
export { ACTIVATIONS, type ArgRule, LAYER_RULES, type LayerRule, checkModelConfig } from "../models/schema.js";
export { type TfjsModel, type TfjsModelOptions, buildTfjsModel, loadTfjsModel } from "../tfjs/model.js";
export { type TfjsBackend } from "../tfjs/runtime.js";
export { type TfjsLayerEntry, type TfjsTopology, toTfjsTopology } from "../tfjs/topology.js";
export { type TfjsSavedModel, loadTfjsSavedModel } from "../tfjs/savedmodel.js";
export { DEFAULT_ONNX_TOLERANCE, type OnnxLayerParity, type OnnxOutputParity, type OnnxParityOptions, type OnnxParityReport, proveOnnx, runOnnxParity } from "../parity/onnx-parity.js";
export { onnxParityHtml } from "../parity/onnx-html.js";
export { formatOnnxParityReport } from "../parity/onnx-report.js";
export { OnnxModel } from "../onnx/model.js";
export { ONNX_RUNTIMES } from "../onnx/runtime.js";
export { type OnnxClassStats, type OnnxSweepSummary, runOnnxSweep } from "../parity/onnx-sweep.js";

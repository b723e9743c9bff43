/**
 * tfbridge: real Python TensorFlow from Node.js over a binary ZeroMQ bridge.
 * @packageDocumentation
 */
export { Bridge, type BridgeOptions } from "./bridge.js";
export { TensorflowClient, type LstmResult, type LstmRunOptions, type RunModelOptions } from "./client.js";
export { seededInput } from "./random.js";
export { Pool, type PoolOptions, type PoolRequestOptions, type PoolStats, type PoolWorker } from "./pool/pool.js";
export { type LoadModelOptions, type ServePredictOptions, type ServedPrediction, type ServedVersionInfo } from "./serving/registry.js";
export { ServedModel } from "./serving/served-model.js";
export type { BatchingOptions } from "./serving/batcher.js";
export type { MetricsOptions } from "./serving/metrics.js";
export type { ModelSource } from "./serving/source.js";
export { type CurveServerKeys, curveKeysFromEnv, curveKeysFromFiles } from "./link/curve.js";
export { isLoopback } from "./link/endpoints.js";
export { type KerasHistory, type KerasInboundNode, type KerasLayerConfig, type KerasModelConfig, type KerasTensorRef, tensorName } from "./models/config.js";
export { type ApplyOptions, type InputOptions, Layer, type ModelOptions, type SequentialOptions, SymbolicTensor, input, model, sequential } from "./models/builder.js";
export { type KerasActivation, layers } from "./models/layers.js";
export {
  type BuildOptions, type LayerOutputInfo, type ModelInfo, type ModelInputs, type ModelMode, type ModelWeights, type PredictOptions, type Prediction, type TensorInfo, ModelHandle,
} from "./models/handle.js";
export {
  type DivergenceCause, type LayerParity, type ModelOutputParity, type ModelParityOptions, type ModelParityReport, type Probe, type StatedTolerance, type Verdict,
  DEFAULT_CPU_TOLERANCE, runModelParity, seededModelInputs,
} from "./parity/model-parity.js";
export { type ParityEnvironment } from "./parity/environment.js";
export { OnednnOffWorker } from "./parity/onednn-off.js";
export { type ClassStats, type ModelSweepOptions, type ModelSweepSummary, type SweepFailure, randomWeights, runModelSweep } from "./parity/model-sweep.js";
export { formatModelParityReport, formatModelSweep, layerTable } from "./parity/model-report.js";
export { REFERENCE_MODELS } from "./parity/reference-models.js";
export { randomModel } from "./parity/model-generator.js";
export { type TfjsModel, type TfjsModelOptions, buildTfjsModel, loadTfjsModel } from "./tfjs/model.js";
export { type ConversionResult, type ConvertOptions, LOAD_HINT, convertModel } from "./convert/convert.js";
export { type ReportEnvironment, parityHtml } from "./parity/html-report.js";
export { reportEnvironment } from "./parity/environment.js";
export { type TfjsLayerEntry, type TfjsTopology, toTfjsTopology } from "./tfjs/topology.js";
export { TfjsUnsupportedModelError } from "./models/refusal.js";
export { ACTIVATIONS, type ArgRule, LAYER_RULES, type LayerRule, checkModelConfig } from "./models/schema.js";
export { PythonProxies, type PyProxy, type PyValue } from "./proxies/proxies.js";
export * from "./errors.js";
export {
  type Activation, type Initializer, type LstmDType, type LstmMode, type LstmSpec, type LstmWeights, type ResolvedLstmSpec,
  LSTM_FIELDS, LSTM_OUTPUTS, checkLstmInput, checkLstmWeights, lstmModel, lstmWeightShapes, resolveLstmSpec,
} from "./models/lstm-spec.js";
export { type DataFor, type DType, type NumericDType, type TypedArrayFor, DTYPES } from "./wire/dtypes.js";
export { type NDArray, type NumericNDArray, elementCount, isStringArray, ndarray, zeros } from "./wire/ndarray.js";
export { type ArrayDescriptor, type Header, decodeMessage, encodeMessage } from "./wire/codec.js";
export { type ControlFromWorker, type ControlToWorker, type ErrorKind, type Op, MAX_MESSAGE_BYTES, WIRE_VERSION } from "./wire/protocol.js";
export type { ProgressEvent, Reply, RequestOptions } from "./worker/replies.js";
export type { LinkKind } from "./link/link.js";
export type { CpuInfo, OnednnInfo, WorkerInfo } from "./worker/info.js";
export { SharedArray, isSharedArray } from "./link/shared-array.js";
export {
  type Comparison, type Tolerance, type WorstElement, ULP_BUCKETS, compareArrays, formatComparison,
} from "./parity/compare.js";
export { ulpDistance32, ulpDistance64 } from "./parity/ulp.js";
export { type Tfjs, type TfjsBackend, type TfjsInfo, TfjsUnavailableError, loadTfjs, tfjsInfo } from "./tfjs/runtime.js";
export { SavedModelError, type TfjsSavedModel, loadTfjsSavedModel } from "./tfjs/savedmodel.js";

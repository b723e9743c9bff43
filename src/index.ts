/**
 * tfbridge: real Python TensorFlow from Node.js. A worker process runs TensorFlow; arrays travel over a
 * socket pair and shared memory on the same machine (ZeroMQ to a worker elsewhere), never as JSON.
 *
 * This is the core: {@link Bridge} and {@link Pool}, whole Keras models (loaded or described in
 * TypeScript), arrays, errors and `tfbridge convert`. Parity checks are in `tfbridge/parity`, serving
 * types in `tfbridge/serving`, TF.js classes for Keras 3 in `tfbridge/tfjs-layers`, the tensor
 * matchers in `tfbridge/vitest`.
 * @module tfbridge
 */
export { Bridge, type BridgeOptions } from "./bridge.js";
export type { EngineRequestOptions, EngineStats } from "./engine/engine.js";
export { TensorflowClient, type LstmResult, type LstmRunOptions, type RunModelOptions } from "./client.js";
export { Pool, type PoolOptions, type PoolRequestOptions, type PoolStats, type PoolWorker } from "./pool/pool.js";
export { type CurveServerKeys, curveKeysFromEnv, curveKeysFromFiles } from "./link/curve.js";
export { type KerasHistory, type KerasInboundNode, type KerasLayerConfig, type KerasModelConfig, type KerasTensorRef, tensorName } from "./models/config.js";
export { type ApplyOptions, type InputOptions, Layer, type ModelOptions, type SequentialOptions, SymbolicTensor, input, model, modelLayer, sequential } from "./models/builder.js";
export {
  type Conv2DArgs,
  type GlobalPooling2DArgs,
  type Ints2,
  type KerasActivation,
  type NormalizationArgs,
  type Named,
  type Pairs2,
  type Pooling1DArgs,
  type Pooling2DArgs,
  type RecurrentArgs,
  layers,
} from "./models/layers.js";
export {
  type BuildOptions, type LayerOutputInfo, type ModelInfo, type ModelInputs, type ModelMode, type ModelOutputs, type ModelWeights, type OnnxExport, type PredictOptions, type Prediction, type TensorInfo, type TfjsSupport, ModelHandle,
} from "./models/handle.js";
export { TfjsUnsupportedModelError } from "./models/refusal.js";
export { type ConversionResult, type ConvertOptions, LOAD_HINT, convertModel } from "./convert/convert.js";
export type { SavedModelProof } from "./convert/saved-model.js";
export { ONNX_FILE, type OnnxConversionResult, type OnnxConvertOptions, convertModelToOnnx } from "./convert/onnx.js";
export { type ProxyWorker, type PyProxy, type PyValue, PythonProxies } from "./proxies/proxies.js";
export * from "./errors.js";
export {
  type Activation, type Initializer, type LstmDType, type LstmMode, type LstmSpec, type LstmWeights, type ResolvedLstmSpec,
  type LstmFieldRule, LSTM_FIELDS, LSTM_OUTPUTS, checkLstmInput, checkLstmWeights, lstmModel, lstmWeightShapes, resolveLstmSpec,
} from "./models/lstm-spec.js";
export { type AnyTypedArray, type DataFor, type DType, type DTypeInfo, type NumericDType, type TypedArrayConstructor, type TypedArrayFor, DTYPES } from "./wire/dtypes.js";
export { type NDArray, type NumericNDArray, elementCount, isStringArray, ndarray, zeros } from "./wire/ndarray.js";
export { MAX_MESSAGE_BYTES, WIRE_VERSION } from "./wire/protocol.js";
export type { OpArgs, OpCall, OpMap, OpName, OpResult, ServeLoadArgs } from "./wire/ops.js";
export type { ProgressEvent, Reply, RequestOptions } from "./worker/replies.js";
export type { LinkKind } from "./link/link.js";
export type { CpuInfo, OnednnInfo, WorkerInfo } from "./worker/info.js";
export { type ShareForkServerOptions, shareForkServer } from "./worker/process.js";
export { SharedArray, isSharedArray } from "./link/shared-array.js";
export { type TfjsInfo, type TfjsModule, TfjsUnavailableError, loadTfjsModule as loadTfjs, tfjsInfo } from "./tfjs/runtime.js";
export { type OnnxRuntimeKind, type OrtModule, type OrtSession, type OrtTensor, loadOnnxRuntime } from "./onnx/runtime.js";
export { SavedModelError } from "./tfjs/savedmodel.js";

/**
 * `tfbridge/serving`: the types of models served by a `Pool` by name and version, as TensorFlow
 * Serving does (`pool.loadModel`, `pool.predict`, dynamic batching, metrics). The Pool itself is in
 * `tfbridge`.
 * @module tfbridge/serving
 */
export { type LoadModelOptions, type ServePredictOptions, type ServedPrediction, type ServedVersionInfo } from "../serving/registry.js";
export { ServedModel } from "../serving/served-model.js";
export type { BatchingOptions } from "../serving/batcher.js";
export type { MetricsOptions } from "../serving/metrics.js";
export type { ModelSource } from "../serving/source.js";

import type { ModelInputs, TensorInfo } from "../models/handle.js";
import type { ModelRegistry, ServePredictOptions, ServedPrediction, ServedVersionInfo } from "./registry.js";

/** One version a pool serves, as `pool.loadModel` returns it: its own `predict` and `unload`. */
export class ServedModel {
  /** @internal made by the pool's registry (`pool.loadModel`), not by users */
  constructor(
    private readonly registry: ModelRegistry,
    /** Its name, version, content key and batching, as loaded. */
    readonly info: ServedVersionInfo,
  ) {}

  get name(): string {
    return this.info.name;
  }
  get version(): number {
    return this.info.version;
  }
  /** The model's inputs (name, shape, dtype), as the workers reported them. */
  get inputs(): TensorInfo[] {
    return this.info.inputs;
  }
  get outputs(): TensorInfo[] {
    return this.info.outputs;
  }

  /** `pool.predict` on this version (not the default). */
  predict(inputs: ModelInputs, options: Omit<ServePredictOptions, "version"> = {}): Promise<ServedPrediction> {
    return this.registry.predict(this.name, inputs, { ...options, version: this.version });
  }

  /** Stops serving this version once its accepted requests finish. */
  unload(): Promise<void> {
    return this.registry.unload(this.name, this.version);
  }
}

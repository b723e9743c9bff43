import { TfbridgeError } from "../errors.js";
import type { Activation, LstmWeights, ResolvedLstmSpec } from "../lstm/spec.js";
import { type NDArray, ndarray } from "../wire/ndarray.js";
import { NAIVE_TFJS_ACTIVATION, TFJS_ACTIVATION, registerKerasActivations } from "./activations.js";
import { type TfjsBackend, loadTfjs, withBackend } from "./runtime.js";

/** The spec asks for something TF.js layers cannot compute; running it anyway would give wrong numbers. */
export class TfjsUnsupportedError extends TfbridgeError {
  override name = "TfjsUnsupportedError";
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`TF.js cannot run this spec: ${field} ${reason}`);
  }
}

/** What the TF.js LSTM produced: the output, and h and c with returnState. */
export interface TfjsLstmResult {
  output: NDArray<"float32">;
  h?: NDArray<"float32">;
  c?: NDArray<"float32">;
}

/** @throws {TfjsUnsupportedError} for a spec TF.js cannot express. */
export function checkTfjsSupport(spec: ResolvedLstmSpec): void {
  if (spec.dtype !== "float32") throw new TfjsUnsupportedError("dtype", `is ${spec.dtype}; TF.js layers compute in float32 only`);
}

export interface TfjsLstmOptions {
  /** Default `tensorflow` (tfjs-node's native TF C library); `cpu` is TF.js's pure-JS backend. */
  backend?: TfjsBackend;
  /**
   * Use TF.js's own activation of the same name instead of Keras's formula (only hard_sigmoid
   * differs): what a naive port computes, for showing how big a trap is.
   */
  naiveActivations?: boolean;
}

/** A TF.js LSTM built and loaded with weights, ready to run many inputs on its backend. */
export interface TfjsLstm {
  run(input: NDArray<"float32">): Promise<TfjsLstmResult>;
  dispose(): Promise<void>;
}

/**
 * Builds `tf.layers.lstm` from a resolved spec with every argument explicit (TF.js's defaults differ
 * from Keras's: recurrentActivation hardSigmoid, kernelInitializer glorotNormal, unitForgetBias false)
 * and loads the given weights. Runs must not overlap with work on another backend.
 */
export async function buildTfjsLstm(
  spec: ResolvedLstmSpec,
  weights: LstmWeights,
  { backend = "tensorflow", naiveActivations = false }: TfjsLstmOptions = {},
): Promise<TfjsLstm> {
  checkTfjsSupport(spec);
  const activation = (name: Activation) => (naiveActivations ? NAIVE_TFJS_ACTIVATION : TFJS_ACTIVATION)[name];
  const tf = await loadTfjs();
  registerKerasActivations(tf);
  type Tensor = import("@tensorflow/tfjs-node").Tensor;
  const layer = await withBackend(tf, backend, async () => {
    const layer = tf.layers.lstm({
      units: spec.units,
      activation: activation(spec.activation) as never,
      recurrentActivation: activation(spec.recurrentActivation) as never,
      useBias: spec.useBias,
      unitForgetBias: false, // the forget-gate ones are already inside the weights
      returnSequences: spec.returnSequences,
      returnState: spec.returnState,
      goBackwards: spec.goBackwards,
      kernelInitializer: "zeros",
      recurrentInitializer: "zeros",
      biasInitializer: "zeros",
      dtype: "float32",
    });
    layer.apply(tf.input({ shape: [...spec.inputShape], dtype: "float32" })); // builds the weights
    const w = [weights.kernel, weights.recurrentKernel, ...(spec.useBias ? [weights.bias!] : [])];
    const tensors = w.map((a) => tf.tensor(a.data as Float32Array, [...a.shape], "float32"));
    layer.setWeights(tensors);
    tf.dispose(tensors);
    return layer;
  });
  return {
    run: (input) =>
      withBackend(tf, backend, async () => {
        const outputs = tf.tidy(() => {
          const out = layer.apply(tf.tensor(input.data, [...input.shape], "float32"));
          return Array.isArray(out) ? (out as Tensor[]) : [out as Tensor];
        });
        const arrays = await Promise.all(outputs.map(async (t) => ndarray("float32", t.shape, (await t.data()) as Float32Array)));
        tf.dispose(outputs);
        const [output, h, c] = arrays;
        return spec.returnState ? { output: output!, h: h!, c: c! } : { output: output! };
      }),
    dispose: () => withBackend(tf, backend, async () => void layer.dispose()),
  };
}

/** Builds the layer (see {@link buildTfjsLstm}), runs it once on `input` and releases it. */
export async function runTfjsLstm(
  spec: ResolvedLstmSpec,
  weights: LstmWeights,
  input: NDArray<"float32">,
  options: TfjsLstmOptions = {},
): Promise<TfjsLstmResult> {
  const lstm = await buildTfjsLstm(spec, weights, options);
  try {
    return await lstm.run(input);
  } finally {
    await lstm.dispose();
  }
}

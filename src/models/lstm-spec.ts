import { SpecError } from "../errors.js";
import type { NDArray } from "../wire/ndarray.js";
import type { KerasLayerConfig, KerasModelConfig } from "./config.js";
import type { ModelMode, ModelWeights } from "./handle.js";

/**
 * The seed's LSTM, declaratively: a spec with Keras 3's defaults made explicit, which becomes a
 * one-layer Keras model ({@link lstmModel}) and runs on the one model path like any other model.
 */

export type Activation = "tanh" | "relu" | "sigmoid" | "linear" | "hard_sigmoid";
export type Initializer =
  | "glorot_uniform" | "glorot_normal" | "he_uniform" | "he_normal" | "lecun_uniform" | "lecun_normal"
  | "orthogonal" | "random_uniform" | "random_normal" | "zeros" | "ones";
export type LstmDType = "float32" | "float64";
/** How the worker runs the layer: see {@link ModelMode}. */
export type LstmMode = ModelMode;

/** Explicit LSTM weights; gate order i, f, c, o along the last axis (Keras and TF.js agree on it). */
export interface LstmWeights {
  /** [features, 4·units] */
  kernel: NDArray<LstmDType>;
  /** [units, 4·units] */
  recurrentKernel: NDArray<LstmDType>;
  /** [4·units]; only with useBias */
  bias?: NDArray<LstmDType>;
}

/** A Keras LSTM layer, declaratively; {@link LSTM_FIELDS} holds each field's rule and default. */
export interface LstmSpec {
  units: number;
  /** [timesteps, features] */
  inputShape: readonly [number, number];
  returnSequences?: boolean;
  returnState?: boolean;
  goBackwards?: boolean;
  activation?: Activation;
  recurrentActivation?: Activation;
  useBias?: boolean;
  unitForgetBias?: boolean;
  kernelInitializer?: Initializer;
  recurrentInitializer?: Initializer;
  biasInitializer?: Initializer;
  /** Seeds the initializers (kernel: seed, recurrent: seed+1, bias: seed+2). Ignored with weights. */
  seed?: number;
  dtype?: LstmDType;
  /** Explicit weights instead of seeded initialization. */
  weights?: LstmWeights;
}

/** A spec with every default made explicit: enough for another runtime to build the identical layer. */
export type ResolvedLstmSpec = Required<Omit<LstmSpec, "weights" | "inputShape">> & { inputShape: [number, number] };

/** One spec field's rule: its type, bounds or values, and its default. */
export type LstmFieldRule =
  | { type: "int"; min: number; max: number; required?: boolean; default?: number }
  | { type: "bool"; default: boolean }
  | { type: "enum"; values: string[]; default: string }
  | { type: "dims"; length: number; min: number; max: number; required: true; doc: string };

const INITIALIZERS = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "orthogonal", "random_uniform", "random_normal", "zeros", "ones"];
const ACTIVATIONS = ["tanh", "relu", "sigmoid", "linear", "hard_sigmoid"];

/** The spec's fields: each one's rule and, unless required, its default (Keras 3's). */
export const LSTM_FIELDS: Readonly<Record<string, LstmFieldRule>> = {
  units: { type: "int", min: 1, max: 4096, required: true },
  inputShape: { type: "dims", length: 2, min: 1, max: 100000, required: true, doc: "[timesteps, features]" },
  returnSequences: { type: "bool", default: false },
  returnState: { type: "bool", default: false },
  goBackwards: { type: "bool", default: false },
  activation: { type: "enum", values: ACTIVATIONS, default: "tanh" },
  recurrentActivation: { type: "enum", values: ACTIVATIONS, default: "sigmoid" },
  useBias: { type: "bool", default: true },
  unitForgetBias: { type: "bool", default: true },
  kernelInitializer: { type: "enum", values: INITIALIZERS, default: "glorot_uniform" },
  recurrentInitializer: { type: "enum", values: INITIALIZERS, default: "orthogonal" },
  biasInitializer: { type: "enum", values: ["zeros", "ones", "random_uniform", "random_normal"], default: "zeros" },
  seed: { type: "int", min: 0, max: 2147483647, default: 0 },
  dtype: { type: "enum", values: ["float32", "float64"], default: "float32" },
};
/** Explicit weights' shapes, in the spec's own sizes; Keras's `layer.weights` order. */
const WEIGHT_SHAPES: readonly [keyof LstmWeights, string[]][] = [
  ["kernel", ["features", "4*units"]],
  ["recurrentKernel", ["units", "4*units"]],
  ["bias", ["4*units"]],
];

/** A value as the user wrote it: JSON, but for the numbers JSON cannot spell (NaN would read "null"). */
function shown(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}

function checkInt(field: string, rule: { min: number; max: number }, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new SpecError(field, `must be an integer, got ${shown(value)}`);
  }
  if (value < rule.min || value > rule.max) {
    throw new SpecError(field, `must be between ${rule.min} and ${rule.max}, got ${value}`);
  }
  return value;
}

function check(field: string, rule: LstmFieldRule, value: unknown): unknown {
  switch (rule.type) {
    case "int":
      return checkInt(field, rule, value);
    case "bool":
      if (typeof value !== "boolean") throw new SpecError(field, `must be true or false, got ${JSON.stringify(value)}`);
      return value;
    case "enum":
      if (typeof value !== "string" || !rule.values.includes(value)) {
        throw new SpecError(field, `must be one of ${rule.values.join(", ")}, got ${JSON.stringify(value)}`);
      }
      return value;
    case "dims":
      if (!Array.isArray(value) || value.length !== rule.length) {
        throw new SpecError(field, `must be a list of ${rule.length} integers (${rule.doc}), got ${JSON.stringify(value)}`);
      }
      return value.map((v, i) => checkInt(`${field}[${i}]`, rule, v));
  }
}

/**
 * Checks a spec against protocol/lstm-spec.json and fills in every default.
 * @throws {SpecError} naming the first field that is missing, unknown or invalid.
 */
export function resolveLstmSpec(spec: unknown): ResolvedLstmSpec {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    throw new SpecError("spec", `must be an object, got ${spec === null ? "null" : typeof spec}`);
  }
  const given = spec as Record<string, unknown>;
  const unknown = Object.keys(given).filter((k) => k !== "weights" && !Object.hasOwn(LSTM_FIELDS, k)).sort();
  if (unknown.length > 0) {
    throw new SpecError(unknown[0]!, `is not a spec field (known: ${Object.keys(LSTM_FIELDS).join(", ")})`);
  }
  const resolved: Record<string, unknown> = {};
  for (const [field, rule] of Object.entries(LSTM_FIELDS)) {
    if (given[field] !== undefined) resolved[field] = check(field, rule, given[field]);
    else if ("required" in rule && rule.required) throw new SpecError(field, "is required");
    else resolved[field] = (rule as { default: unknown }).default;
  }
  return resolved as ResolvedLstmSpec;
}

function dim(token: string, spec: ResolvedLstmSpec): number {
  const sizes: Record<string, number> = { units: spec.units, timesteps: spec.inputShape[0], features: spec.inputShape[1] };
  const [factor, name] = token.includes("*") ? token.split("*") : ["1", token];
  return Number(factor) * sizes[name!]!;
}

/** The shape each explicit weight must have (bias only with useBias). */
export function lstmWeightShapes(spec: ResolvedLstmSpec): Partial<Record<keyof LstmWeights, number[]>> {
  const shapes: Partial<Record<keyof LstmWeights, number[]>> = {};
  for (const [name, dims] of WEIGHT_SHAPES) {
    if (name !== "bias" || spec.useBias) shapes[name] = dims.map((t) => dim(t, spec));
  }
  return shapes;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** @throws {SpecError} when a weight is missing, extra, or of the wrong shape or dtype. */
export function checkLstmWeights(spec: ResolvedLstmSpec, weights: LstmWeights): void {
  const expected = lstmWeightShapes(spec);
  for (const name of Object.keys(weights) as (keyof LstmWeights)[]) {
    if (weights[name] === undefined) continue;
    if (!Object.hasOwn(expected, name)) {
      throw new SpecError(`weights.${name}`, name === "bias" ? "is not used when useBias is false" : "is not an LSTM weight");
    }
  }
  for (const [name, shape] of Object.entries(expected) as [keyof LstmWeights, number[]][]) {
    const w = weights[name];
    if (!w) throw new SpecError(`weights.${name}`, `is missing (explicit weights need ${Object.keys(expected).join(", ")})`);
    if (!sameShape(w.shape, shape)) {
      throw new SpecError(`weights.${name}`, `must have shape [${shape}], got [${w.shape}]`);
    }
    if (w.dtype !== spec.dtype) throw new SpecError(`weights.${name}`, `must be ${spec.dtype} like the spec, got ${w.dtype}`);
  }
}

/** @throws {SpecError} unless `input` is [batch ≥ 1, timesteps, features] of the spec's dtype. */
export function checkLstmInput(spec: ResolvedLstmSpec, input: NDArray): void {
  const [timesteps, features] = spec.inputShape;
  const s = input.shape;
  if (s.length !== 3 || s[0]! < 1 || s[1] !== timesteps || s[2] !== features) {
    throw new SpecError("input", `must have shape [batch, ${timesteps}, ${features}], got [${s}]`);
  }
  if (input.dtype !== spec.dtype) throw new SpecError("input", `must be ${spec.dtype} like the spec, got ${input.dtype}`);
}

/** The model's outputs as the LSTM names them: `output`, and with returnState `h`, `c` (the layer's outputs 1 and 2). */
export const LSTM_OUTPUTS = { output: "lstm", h: "lstm:1", c: "lstm:2" } as const;

const pascal = (snake: string) => snake.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());

/** An initializer as Keras 3 serializes it; seeded unless it has nothing random to seed. */
function initializer(name: string, seed: number) {
  const seeded = name !== "zeros" && name !== "ones";
  return { module: "keras.initializers", class_name: pascal(name), config: seeded ? { seed } : {}, registered_name: null };
}

/**
 * The spec as a one-layer Keras 3 model (an input, then the LSTM named `lstm`, its outputs the
 * model's), for `bridge.model` / `runModel` / `runModelParity`. Without explicit weights the
 * initializers are seeded from `seed` (kernel seed, recurrent seed+1, bias seed+2), so Keras itself
 * initializes the same weights on every worker.
 * @throws {SpecError} for a bad spec or weights.
 */
export function lstmModel(spec: LstmSpec): { config: KerasModelConfig; weights?: ModelWeights; resolved: ResolvedLstmSpec } {
  const s = resolveLstmSpec(spec);
  if (spec.weights) checkLstmWeights(s, spec.weights);
  const lstm: KerasLayerConfig = {
    module: "keras.layers",
    class_name: "LSTM",
    registered_name: null,
    name: "lstm",
    config: {
      name: "lstm",
      dtype: s.dtype,
      units: s.units,
      activation: s.activation,
      recurrent_activation: s.recurrentActivation,
      use_bias: s.useBias,
      unit_forget_bias: s.unitForgetBias,
      kernel_initializer: initializer(s.kernelInitializer, s.seed),
      recurrent_initializer: initializer(s.recurrentInitializer, s.seed + 1),
      bias_initializer: initializer(s.biasInitializer, s.seed + 2),
      return_sequences: s.returnSequences,
      return_state: s.returnState,
      go_backwards: s.goBackwards,
    },
    inbound_nodes: [{ args: [{ class_name: "__keras_tensor__", config: { shape: [], dtype: s.dtype, keras_history: ["input", 0, 0] } }], kwargs: {} }],
  };
  const input: KerasLayerConfig = {
    module: "keras.layers",
    class_name: "InputLayer",
    registered_name: null,
    name: "input",
    config: { name: "input", batch_shape: [null, ...s.inputShape], dtype: s.dtype },
    inbound_nodes: [],
  };
  const config: KerasModelConfig = {
    module: "keras.src.models.functional",
    class_name: "Functional",
    registered_name: "Functional",
    config: {
      name: "lstm_spec",
      trainable: true,
      layers: [input, lstm],
      input_layers: [["input", 0, 0]],
      output_layers: s.returnState ? [0, 1, 2].map((i): [string, number, number] => ["lstm", 0, i]) : [["lstm", 0, 0]],
    },
  };
  if (!spec.weights) return { config, resolved: s };
  const w = spec.weights;
  return { config, weights: { lstm: [w.kernel, w.recurrentKernel, ...(w.bias ? [w.bias] : [])] as NDArray<"float32">[] }, resolved: s };
}

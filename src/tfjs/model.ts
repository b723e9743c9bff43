import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ModelError } from "../errors.js";
import type { KerasModelConfig } from "../models/config.js";
import type { LayerOutputInfo, ModelWeights } from "../models/handle.js";
import { TFBRIDGE_MERGE_PREFIX, registerKerasLayers } from "../tfjs-layers/index.js";
import { ATTENTION_CLASSES, MERGE_CLASSES } from "../tfjs-layers/names.js";
import { type NDArray, ndarray } from "../wire/ndarray.js";
import { type Tfjs, type TfjsBackend, loadTfjs, withBackend } from "./runtime.js";
import { feedTensor, tfjsFeeds } from "./inputs.js";
import { type TfjsTopology, tfjsTensorKey, toTfjsGraph } from "./topology.js";

const ATTENTION_TFJS_CLASSES = new Set(Object.values(ATTENTION_CLASSES));

type Tensor = import("@tensorflow/tfjs-node").Tensor;
type LayersModel = import("@tensorflow/tfjs-node").LayersModel;

/** Options of {@link buildTfjsModel}. */
export interface TfjsModelOptions {
  /** Default `tensorflow` (tfjs-node's native TF C library); `cpu` is TF.js's pure-JS backend. */
  backend?: TfjsBackend;
}

/** A model's TF.js twin with the Python model's weights, ready to run on its backend. */
export interface TfjsModel {
  /**
   * The TF.js LayersModel itself.
   * @internal tfjs-node's types are not the package's to publish (see `Tfjs`).
   */
  readonly model: LayersModel;
  /**
   * Runs the twin on `inputs` (in the model's input order). With `layers`, returns the outputs named
   * in `layers` (every layer's output, as the worker names them), else the model's outputs.
   */
  predict(inputs: readonly NDArray[], layers?: readonly LayerOutputInfo[]): Promise<NDArray<"float32">[]>;
  /** The model's outputs from TF.js's own `model.predict`, as a user of the model would run it. */
  predictStock(inputs: readonly NDArray[]): Promise<NDArray<"float32">[]>;
  /** Per layer, which of its inputs carry a Keras mask (the same for any inputs of these shapes). */
  maskedInputs(inputs: readonly NDArray[]): Promise<Map<string, boolean[]>>;
  dispose(): Promise<void>;
}

/**
 * Runs the twin's graph layer by layer with the masks each layer's own `computeMask` gives, the way
 * Keras 3 does, and keeps every layer's outputs. Not `model.predict` or `model.apply`: TF.js 4.22's
 * graph walkers can hand one layer's mask to an unrelated later layer. The model sweep found it: in a
 * two-input model a Masking branch's [batch, 4] mask reached a Bidirectional on the other, unmasked
 * branch (input [batch, 2, 5]) and changed its output by 0.29; its kwargs object is reused from node
 * to node in tfjs-layers' engine (executor.ts `execute`: `kwargs['mask'] = inputMasks[0]`).
 */
function runGraph(model: LayersModel, topology: TfjsTopology, inputs: Tensor[]): { values: Map<string, Tensor>; masked: Map<string, boolean[]> } {
  const values = new Map<string, Tensor>();
  const masked = new Map<string, boolean[]>();
  const masks = new Map<string, Tensor | null>();
  const key = (layer: string, index: number) => (index === 0 ? layer : `${layer}:${index}`);
  topology.config.input_layers.forEach(([name], i) => {
    values.set(name, inputs[i]!);
    masks.set(name, null);
  });
  for (const entry of topology.config.layers) {
    if (entry.class_name === "InputLayer") continue;
    const layer = model.getLayer(entry.name);
    const refs = entry.inbound_nodes[0]!.map(([name, , index]) => key(name, index));
    const args = refs.map((r) => values.get(r)!);
    const argMasks = refs.map((r) => masks.get(r) ?? null);
    masked.set(entry.name, argMasks.map((m) => m !== null));
    const input = args.length === 1 ? args[0]! : args;
    // A merge or an attention layer takes every input's mask; a recurrent layer's initial states
    // follow its input in the list, and only the input carries one. A layer that does not support
    // masking ignores the mask and hands none on, as in Keras 3.
    const merge = MERGE_CLASSES.includes(entry.class_name.replace(TFBRIDGE_MERGE_PREFIX, "") as never) || ATTENTION_TFJS_CLASSES.has(entry.class_name);
    const mask = !layer.supportsMasking ? null : merge ? (argMasks.some((m) => m) ? argMasks : null) : argMasks[0];
    const out = layer.apply(input, mask ? { mask } : {}) as Tensor | Tensor[];
    const computed = layer.supportsMasking ? (layer.computeMask(input, (mask ?? undefined) as never) as Tensor | Tensor[] | null) : null;
    // One mask per output where the layer gives a list (an RNN's states get none, as in Keras).
    (Array.isArray(out) ? out : [out]).forEach((t, i) => {
      values.set(key(entry.name, i), t);
      masks.set(key(entry.name, i), Array.isArray(computed) ? (computed[i] ?? null) : computed);
    });
  }
  return { values, masked };
}

/**
 * Builds the TF.js twin of a checked Keras 3 model config (see toTfjsTopology) with `tf.layers`,
 * every argument explicit, and loads `weights` (per layer, in Keras's order; the layouts agree).
 * @throws {TfjsUnsupportedModelError} for what TF.js cannot compute as Keras does.
 * @throws {ModelError} when the weights do not fit the TF.js layers.
 */
export async function buildTfjsModel(config: KerasModelConfig, weights: ModelWeights, { backend = "tensorflow" }: TfjsModelOptions = {}): Promise<TfjsModel> {
  const { topology, aliases, weightLayers } = toTfjsGraph(config);
  const tf = await loadTfjs();
  registerKerasLayers(tf);
  const model = await withBackend(tf, backend, async () => {
    const built = await tf.models.modelFromJSON({ modelTopology: topology as never });
    for (const [name, arrays] of Object.entries(weights)) setLayerWeights(tf, built, name, weightLayers[name] ?? [[name]], arrays);
    return built;
  });
  return twinOf(tf, model, topology, aliases, backend);
}

/**
 * Sets one Keras layer's weights (a nested model's: all its layers', in order) on the TF.js layers
 * that hold them, each copy of a shared layer alike.
 * @throws {ModelError} when the weights do not fit the TF.js layers.
 */
function setLayerWeights(tf: Tfjs, built: LayersModel, name: string, holders: string[][], arrays: ModelWeights[string]): void {
  let next = 0;
  for (const copies of holders) {
    if (copies.length === 0) continue;
    const count = built.getLayer(copies[0]!).weights.length;
    const slice = arrays.slice(next, next + count);
    next += count;
    for (const copy of copies) {
      const layer = built.getLayer(copy);
      const expected = layer.weights.map((w) => w.shape);
      const got = slice.map((a) => [...a.shape]);
      if (JSON.stringify(expected) !== JSON.stringify(got)) {
        throw new ModelError(`TF.js layer ${copy} expects weights ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`, { layer: name });
      }
      const tensors = slice.map((a) => weightTensor(tf, a));
      layer.setWeights(tensors);
      tf.dispose(tensors);
    }
  }
  if (next !== arrays.length) throw new ModelError(`layer ${name} has ${arrays.length} weights, its TF.js layers take ${next}`, { layer: name });
}

/**
 * A weight as TF.js holds it: float32, or int32 for an integer weight (Normalization's `count` is
 * int64 in Keras; TF.js has no int64, and the count is never computed with at inference).
 */
function weightTensor(tf: Tfjs, a: NDArray): Tensor {
  if (a.dtype === "float32") return tf.tensor(a.data as Float32Array, [...a.shape], "float32");
  return tf.tensor(Int32Array.from(a.data as ArrayLike<number | bigint>, Number), [...a.shape], "int32");
}

/**
 * Loads a converted model (`model.json` written by `tfbridge convert`) with TF.js's own
 * `tf.loadLayersModel`, as its users will, and runs it on `backend`.
 */
export async function loadTfjsModel(modelJson: string, { backend = "tensorflow" }: TfjsModelOptions = {}): Promise<TfjsModel> {
  const tf = await loadTfjs();
  registerKerasLayers(tf);
  const file = JSON.parse(readFileSync(modelJson, "utf8")) as { modelTopology: TfjsTopology; userDefinedMetadata?: { tfbridge?: { aliases?: Record<string, string> } } };
  const model = await withBackend(tf, backend, () => tf.loadLayersModel(`file://${resolve(modelJson)}`));
  return twinOf(tf, model, file.modelTopology, file.userDefinedMetadata?.tfbridge?.aliases ?? {}, backend);
}

/** A LayersModel whose graph is `topology`, run by {@link runGraph} (or stock predict) on `backend`. */
function twinOf(tf: Tfjs, model: LayersModel, topology: TfjsTopology, aliases: Readonly<Record<string, string>>, backend: TfjsBackend): TfjsModel {
  const outputNames = topology.config.output_layers.map(([name, , index]) => (index === 0 ? name : `${name}:${index}`));
  const inputNames = topology.config.input_layers.map(([name]) => name);
  /** The inputs as tensors; every input is checked (int64 fits int32) before the first tensor is made. */
  const toTensors = (inputs: readonly NDArray[]) => {
    const feeds = tfjsFeeds(inputNames, inputs);
    return feeds.map((feed) => feedTensor(tf, feed));
  };
  const toArrays = async (outputs: Tensor[]) => {
    // An int output (Resizing of an int image) is compared as float32, as every output is.
    const asFloat = (data: Awaited<ReturnType<Tensor["data"]>>) => (data instanceof Float32Array ? data : Float32Array.from(data as Int32Array));
    const arrays = await Promise.all(outputs.map(async (t) => ndarray("float32", t.shape, asFloat(await t.data()))));
    tf.dispose(outputs);
    return arrays;
  };
  return {
    model,
    predict: (inputs, layers) =>
      withBackend(tf, backend, async () => {
        const wanted = layers ? layers.map((l) => tfjsTensorKey(l.name, aliases)) : outputNames;
        const outputs = tf.tidy(() => {
          const { values } = runGraph(model, topology, toTensors(inputs));
          return wanted.map((name) => values.get(name)!);
        });
        return toArrays(outputs);
      }),
    predictStock: (inputs) =>
      withBackend(tf, backend, async () => {
        const outputs = tf.tidy(() => {
          const xs = toTensors(inputs);
          const out = model.predict(xs.length === 1 ? xs[0]! : xs);
          return Array.isArray(out) ? out : [out];
        });
        return toArrays(outputs);
      }),
    maskedInputs: (inputs) =>
      withBackend(tf, backend, async () => {
        let masked = new Map<string, boolean[]>();
        tf.tidy(() => {
          masked = runGraph(model, topology, toTensors(inputs)).masked;
        });
        return masked;
      }),
    dispose: () => withBackend(tf, backend, async () => void model.dispose()),
  };
}

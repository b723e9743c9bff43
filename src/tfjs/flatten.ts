import { type KerasHistory, type KerasLayerConfig, type KerasModelConfig, historyList, isTensorRef } from "../models/config.js";
import { MODEL_CLASSES, maskOnlyOperations } from "../models/schema.js";

/** A tensor of the flattened graph: the output `index` of call `call` (an input layer's is its name, index 0). */
export interface CallTensor {
  call: string;
  index: number;
}

/** One call of a layer (never of a model), in an order that computes every input before it is used. */
export interface LeafCall {
  /** The layer's checked Keras 3 config. */
  entry: KerasLayerConfig;
  /**
   * The call's name as the worker names per-layer outputs (python/tfbridge_worker/models/walk.py):
   * `layer`, `layer@k` for the k-th call of a shared layer, `model/layer` inside a nested model.
   */
  call: string;
  /** The layer's own path, the same for all its calls: `model/layer`. Its weights go with it. */
  path: string;
  /** Positional inputs, then `initial_state` (Keras 2 / TF.js take the states after the input). */
  inputs: CallTensor[];
  /** The call's positional and keyword arguments as Keras wrote them. */
  args: unknown[];
  kwargs: Record<string, unknown>;
  /** The tensor a `keras_history` in `args` or `kwargs` names (masks aside: the twin derives those). */
  resolve(ref: KerasHistory): CallTensor;
}

/** A model as one flat graph of layer calls: what TF.js's topology can express. */
export interface FlatGraph {
  /** The top-level model's input layers, in order. */
  inputs: KerasLayerConfig[];
  calls: LeafCall[];
  outputs: CallTensor[];
  /** A nested model's outputs by the worker's name (`base`, `base@1:1`) → the inner tensor that is it. */
  aliases: Record<string, CallTensor>;
  /** Per top-level layer with weights, in Keras's weight order: the paths of the layers that hold them. */
  weightPaths: Record<string, string[]>;
}

/** `layer` for a call's first output, `layer:i` for the others: the worker's tensor names. */
export const callTensorName = ({ call, index }: CallTensor): string => (index === 0 ? call : `${call}:${index}`);

interface Node {
  /** Positional tensors, then `initial_state`: the inputs of a layer without `call` rules. */
  refs: KerasHistory[];
  /** Every tensor the call computes with (its other keyword arguments too), masks aside. */
  uses: KerasHistory[];
  args: unknown[];
  kwargs: Record<string, unknown>;
}

/** The layers and the calls of each, Sequential written as the chain it is. */
function graphOf(model: KerasModelConfig): { layers: KerasLayerConfig[]; nodes: Map<string, Node[]>; inputs: string[]; outputs: KerasHistory[] } {
  const maskOnly = maskOnlyOperations(model);
  const layers = model.config.layers.filter((e) => !maskOnly.has(String(e.config.name)));
  const nodes = new Map<string, Node[]>();
  if (model.class_name === "Sequential") {
    const inputLayer = layers.find((e) => e.class_name === "InputLayer");
    const input = String(inputLayer?.config.name ?? `${model.config.name ?? "sequential"}_input`);
    let previous: KerasHistory = [input, 0, 0];
    for (const entry of layers) {
      if (entry.class_name === "InputLayer") continue;
      nodes.set(String(entry.config.name), [{ refs: [previous], uses: [previous], args: [], kwargs: {} }]);
      previous = [String(entry.config.name), 0, 0];
    }
    return { layers, nodes, inputs: [input], outputs: [previous] };
  }
  for (const entry of layers) {
    nodes.set(
      String(entry.config.name),
      (entry.inbound_nodes ?? []).map((node) => {
        const refs: KerasHistory[] = [];
        const take = (into: KerasHistory[]) => (v: unknown): void => {
          if (isTensorRef(v)) into.push(v.config.keras_history);
          else if (Array.isArray(v)) v.forEach(take(into));
        };
        node.args.forEach(take(refs));
        take(refs)(node.kwargs?.initial_state);
        const uses = [...refs];
        for (const [key, value] of Object.entries(node.kwargs ?? {})) if (key !== "initial_state") take(uses)(value);
        return { refs, uses: uses.filter(([layer]) => !maskOnly.has(layer)), args: node.args, kwargs: node.kwargs ?? {} };
      }),
    );
  }
  return { layers, nodes, inputs: historyList(model.config.input_layers).map(([name]) => name), outputs: historyList(model.config.output_layers) };
}

const isModel = (entry: KerasLayerConfig) => MODEL_CLASSES.includes(entry.class_name);

/** The paths of the layers whose weights a model's `weights` list concatenates (Keras: `_layers` order). */
function weightOrder(model: KerasModelConfig, prefix: string): string[] {
  return graphOf(model).layers.flatMap((entry) => {
    if (entry.class_name === "InputLayer") return [];
    const path = `${prefix}${String(entry.config.name)}`;
    return isModel(entry) ? weightOrder(entry as unknown as KerasModelConfig, `${path}/`) : [path];
  });
}

/**
 * A checked Keras 3 model as one flat graph: every nested model (a Functional or Sequential used as a
 * layer: a transfer-learning base) expanded into its layers, each call of a shared layer a call of its
 * own, in an order that runs every call after its inputs. Names follow the worker's per-layer outputs.
 */
export function flattenModel(model: KerasModelConfig): FlatGraph {
  const calls: LeafCall[] = [];
  // Keyed by the model's layer names (`__proto__` is one too): without a prototype.
  const aliases: Record<string, CallTensor> = Object.create(null) as Record<string, CallTensor>;
  const top = graphOf(model);
  const inputs = top.inputs.map((name) => top.layers.find((e) => e.config.name === name)!);

  function expand(graph: ReturnType<typeof graphOf>, prefix: string, given: CallTensor[]): CallTensor[] {
    const byName = new Map(graph.layers.map((e) => [String(e.config.name), e]));
    const done = new Map<string, (index: number) => CallTensor>();

    const resolve = (layer: string, node: number): ((index: number) => CallTensor) => {
      const input = graph.inputs.indexOf(layer);
      if (input >= 0) return () => given[input]!;
      const key = `${layer}#${node}`;
      const known = done.get(key);
      if (known) return known;
      const entry = byName.get(layer);
      const call = graph.nodes.get(layer)?.[node];
      if (!entry || !call) throw new Error(`the model config refers to ${layer} call ${node}, which it does not have`);
      for (const [l, n] of call.uses) resolve(l, n); // everything it computes with runs before it
      const args = call.refs.map(([l, n, t]) => resolve(l, n)(t));
      const name = `${prefix}${layer}${node > 0 ? `@${node}` : ""}`;
      let out: (index: number) => CallTensor;
      if (isModel(entry)) {
        const inner = expand(graphOf(entry as unknown as KerasModelConfig), `${name}/`, args);
        inner.forEach((t, i) => (aliases[callTensorName({ call: name, index: i })] = t));
        out = (index) => inner[index]!;
      } else {
        calls.push({ entry, call: name, path: `${prefix.replace(/@\d+\//g, "/")}${layer}`, inputs: args, args: call.args, kwargs: call.kwargs, resolve: ([l, n, t]) => resolve(l, n)(t) });
        out = (index) => ({ call: name, index });
      }
      done.set(key, out);
      return out;
    };

    for (const entry of graph.layers) {
      const name = String(entry.config.name);
      (graph.nodes.get(name) ?? []).forEach((_, node) => resolve(name, node));
    }
    // A model's own outputs number a nested Functional's calls from 1 (Keras counts its construction as
    // node 0 there, functional.py get_tensor_config), its layers' inputs from 0 (serialize_node).
    return graph.outputs.map(([l, n, t]) => resolve(l, byName.get(l)?.class_name === "Functional" ? n - 1 : n)(t));
  }

  const outputs = expand(top, "", top.inputs.map((name) => ({ call: name, index: 0 })));
  const weightPaths: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const entry of top.layers) {
    if (entry.class_name === "InputLayer") continue;
    const name = String(entry.config.name);
    weightPaths[name] = isModel(entry) ? weightOrder(entry as unknown as KerasModelConfig, `${name}/`) : [name];
  }
  return { inputs, calls, outputs, aliases, weightPaths };
}

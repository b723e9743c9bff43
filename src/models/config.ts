/**
 * Keras 3's own model config, the interchange between the two languages: what `model.to_json()`
 * writes and what a `.keras` file holds. Only the parts tfbridge reads are typed; the rest passes
 * through untouched.
 */

/** A reference to a layer's output: `[layer name, node index, tensor index]`. */
export type KerasHistory = [string, number, number];

/** A symbolic tensor inside an inbound node, as Keras 3 serializes it. */
export interface KerasTensorRef {
  class_name: "__keras_tensor__";
  config: { keras_history: KerasHistory; shape?: (number | null)[]; dtype?: string };
}

/** One call of a layer in a functional model: positional args and keyword args (mask, initial_state…). */
export interface KerasInboundNode {
  args: unknown[];
  kwargs: Record<string, unknown>;
}

/** One layer (or, for mask computations, operation) of a model config. */
export interface KerasLayerConfig {
  class_name: string;
  config: Record<string, unknown> & { name?: string };
  module?: string;
  registered_name?: string | null;
  name?: string;
  inbound_nodes?: KerasInboundNode[];
  build_config?: unknown;
}

/** A whole model: `Sequential` (a layer list) or `Functional` (a graph of inbound nodes). */
export interface KerasModelConfig {
  class_name: "Sequential" | "Functional" | "Model";
  module?: string;
  registered_name?: string | null;
  config: {
    name?: string;
    layers: KerasLayerConfig[];
    /** Functional only; a single `[name, 0, 0]` or a list of them. */
    input_layers?: KerasHistory | KerasHistory[];
    output_layers?: KerasHistory | KerasHistory[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Is `value` a serialized symbolic tensor? */
export function isTensorRef(value: unknown): value is KerasTensorRef {
  return typeof value === "object" && value !== null && (value as { class_name?: unknown }).class_name === "__keras_tensor__";
}

/** `input_layers` / `output_layers` as a list, whichever form Keras wrote. */
export function historyList(value: KerasHistory | KerasHistory[] | undefined): KerasHistory[] {
  if (!value || value.length === 0) return [];
  return Array.isArray(value[0]) ? (value as KerasHistory[]) : [value as KerasHistory];
}

/** The name tfbridge gives a tensor: `layer` for a layer's first output, `layer:i` for the others. */
export function tensorName([layer, , index]: KerasHistory): string {
  return index === 0 ? layer : `${layer}:${index}`;
}

/** Every symbolic tensor an inbound node reads, positional args first, then keyword args except `mask`. */
export function nodeInputs(node: KerasInboundNode): KerasTensorRef[] {
  const found: KerasTensorRef[] = [];
  const walk = (v: unknown): void => {
    if (isTensorRef(v)) found.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
  };
  node.args.forEach(walk);
  for (const [key, value] of Object.entries(node.kwargs ?? {})) if (key !== "mask") walk(value);
  return found;
}

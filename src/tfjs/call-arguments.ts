import { bindCall } from "../models/call-binding.js";
import type { KerasLayerConfig } from "../models/config.js";
import { type ArgRule, LAYER_RULES } from "../models/schema.js";

/** One input of a TF.js inbound node: `[layer, node, tensor, kwargs]`. */
type TfjsRef = [string, number, number, Record<string, unknown>];

/** The layer's tensor call arguments Keras fills from another when the call leaves them out (MultiHeadAttention: `key = value`). */
const STANDS_IN: Readonly<Record<string, string>> = { key: "value" };

/** A layer's calls translated for TF.js: each call's inputs in the twin's order, and the call's flags as config. */
export interface TranslatedCalls {
  inbound: TfjsRef[][];
  /** The call's flags (use_causal_mask, return_attention_scores) and `call_inputs` as config fields of the TF.js layer. */
  config: Record<string, unknown>;
}

const refOf = (value: unknown): TfjsRef => [...(value as { config: { keras_history: [string, number, number] } }).config.keras_history, {}];

/**
 * The calls of a layer whose layers.json rule lists `call` arguments (the attention layers), in the
 * form TF.js replays, or null for any other layer. TF.js calls a layer with its inputs and a mask
 * only, so:
 * - tensor arguments become positional inputs in the `call` order (MultiHeadAttention:
 *   `[query, value, key, attention_mask]`, the key being the value when the call has none), each
 *   tensor once: `call_inputs` in the config maps each of those roles to its input. TF.js 4.22's own
 *   executor (`predict`, a converted model) counts a node once per recipient layer but once per
 *   input when it frees tensors, so a layer given one tensor twice — self-attention, `mha(x, x)` —
 *   frees it while a later layer still needs it ("Tensor is disposed");
 * - flags (`use_causal_mask`, `return_attention_scores`) become fields of the layer's config, every
 *   one explicit; a layer called with different flags cannot be one TF.js layer, and is refused;
 * - masks (checked by the schema to be the ones Keras derives) are left to TF.js to derive, and
 *   `training` to inference.
 * The schema (models/schema.ts) has checked every argument's type already.
 */
export function translateCalls(entry: KerasLayerConfig, reasons: { layer: string; reason: string }[]): TranslatedCalls | null {
  const call = LAYER_RULES[entry.class_name]?.call;
  if (!call) return null;
  const name = String(entry.config.name);
  const flags = Object.entries(call).filter(([key, rule]) => rule.type === "bool" && key !== "training") as [string, ArgRule][];
  let config: Record<string, unknown> | null = null;
  const inbound = (entry.inbound_nodes ?? []).map((node) => {
    const { given } = bindCall(node, Object.keys(call));
    const roles: TfjsRef[] = [];
    const absent: string[] = [];
    for (const [key, rule] of Object.entries(call)) {
      if (rule.type === "tensors") roles.push(...(given[key] as unknown[]).map(refOf));
      if (rule.type !== "tensor") continue;
      const value = given[key] ?? (STANDS_IN[key] ? given[STANDS_IN[key]] : null);
      if (value === null || value === undefined) absent.push(key);
      else {
        // A later input would take an absent one's place.
        if (absent.length) reasons.push({ layer: name, reason: `call argument ${key} without ${absent.join(", ")} has no TF.js counterpart` });
        roles.push(refOf(value));
      }
    }
    const refs: TfjsRef[] = [];
    const callInputs = roles.map((ref) => {
      const at = refs.findIndex((r) => r[0] === ref[0] && r[1] === ref[1] && r[2] === ref[2]);
      return at >= 0 ? at : refs.push(ref) - 1;
    });
    const these = { ...Object.fromEntries(flags.map(([key, rule]) => [key, given[key] ?? rule.default])), call_inputs: callInputs };
    if (config && JSON.stringify(config) !== JSON.stringify(these)) {
      reasons.push({ layer: name, reason: `is called with different ${flags.map(([k]) => k).join("/")} or inputs (${JSON.stringify(config)} and ${JSON.stringify(these)}): a TF.js layer has one config` });
    }
    config ??= these;
    return refs;
  });
  return { inbound, config: config ?? {} };
}

import { bindCall } from "../models/call-binding.js";
import { type KerasHistory, isTensorRef } from "../models/config.js";
import { type ArgRule, LAYER_RULES } from "../models/schema.js";
import type { CallTensor, LeafCall } from "./flatten.js";

/** The layer's tensor call arguments Keras fills from another when the call leaves them out (MultiHeadAttention: `key = value`). */
const STANDS_IN: Readonly<Record<string, string>> = { key: "value" };

/** A layer call translated for TF.js: its inputs in the twin's order, and the call's flags as config. */
export interface TranslatedCall {
  inputs: CallTensor[];
  /** The call's flags (use_causal_mask, return_attention_scores) and `call_inputs` as config fields of the TF.js layer. */
  config: Record<string, unknown>;
}

/**
 * One call of a layer whose layers.json rule lists `call` arguments (the attention layers), in the
 * form TF.js replays, or null for any other layer. TF.js calls a layer with its inputs and a mask
 * only, so:
 * - tensor arguments become positional inputs in the `call` order (MultiHeadAttention:
 *   `[query, value, key, attention_mask]`, the key being the value when the call has none), each
 *   tensor once: `call_inputs` in the config maps each of those roles to its input. TF.js 4.22's own
 *   executor (`predict`, a converted model) counts a node once per recipient layer but once per
 *   input when it frees tensors, so a layer given one tensor twice — self-attention, `mha(x, x)` —
 *   frees it while a later layer still needs it ("Tensor is disposed");
 * - flags (`use_causal_mask`, `return_attention_scores`) become fields of the layer's config, every
 *   one explicit (each call is a TF.js layer of its own: see toTfjsGraph);
 * - masks (checked by the schema to be the ones Keras derives) are left to TF.js to derive, and
 *   `training` to inference.
 * The schema (models/schema.ts) has checked every argument's type already.
 */
export function translateCall(call: LeafCall, reasons: { layer: string; reason: string }[]): TranslatedCall | null {
  const rules = LAYER_RULES[call.entry.class_name]?.call;
  if (!rules) return null;
  const flags = Object.entries(rules).filter(([key, rule]) => rule.type === "bool" && key !== "training") as [string, ArgRule][];
  const { given } = bindCall({ args: call.args, kwargs: call.kwargs }, Object.keys(rules));
  const tensorOf = (value: unknown): CallTensor => call.resolve((value as { config: { keras_history: KerasHistory } }).config.keras_history);
  const roles: CallTensor[] = [];
  const absent: string[] = [];
  for (const [key, rule] of Object.entries(rules)) {
    if (rule.type === "tensors") roles.push(...(given[key] as unknown[]).filter(isTensorRef).map(tensorOf));
    if (rule.type !== "tensor") continue;
    const value = given[key] ?? (STANDS_IN[key] ? given[STANDS_IN[key]] : null);
    if (value === null || value === undefined) absent.push(key);
    else {
      // A later input would take an absent one's place.
      if (absent.length) reasons.push({ layer: call.call, reason: `call argument ${key} without ${absent.join(", ")} has no TF.js counterpart` });
      roles.push(tensorOf(value));
    }
  }
  const inputs: CallTensor[] = [];
  const callInputs = roles.map((t) => {
    const at = inputs.findIndex((u) => u.call === t.call && u.index === t.index);
    return at >= 0 ? at : inputs.push(t) - 1;
  });
  return { inputs, config: { ...Object.fromEntries(flags.map(([key, rule]) => [key, given[key] ?? rule.default])), call_inputs: callInputs } };
}

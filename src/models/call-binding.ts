import type { KerasInboundNode } from "./config.js";

/**
 * One call of a layer with its arguments bound to the names of the layer's `call` signature, as
 * Python binds them: positional arguments in the signature's order (protocol/layers.json `call`
 * lists a layer's call arguments in that order), then keyword arguments by name.
 */
export interface BoundCall {
  /** Every argument given, by name. */
  given: Record<string, unknown>;
  /** Keyword arguments the signature does not have, and positional ones past its end (as `#i`). */
  unknown: string[];
  /** Names given both by position and by keyword. */
  twice: string[];
}

/** Binds an inbound node's `args` and `kwargs` to the call signature `names` (see {@link BoundCall}). */
export function bindCall(node: KerasInboundNode, names: readonly string[]): BoundCall {
  const given: Record<string, unknown> = {};
  const unknown: string[] = [];
  const twice: string[] = [];
  (node.args ?? []).forEach((value, i) => {
    if (i < names.length) given[names[i]!] = value;
    else unknown.push(`#${i}`);
  });
  for (const [key, value] of Object.entries(node.kwargs ?? {})) {
    if (!names.includes(key)) unknown.push(key);
    else if (key in given) twice.push(key);
    else given[key] = value;
  }
  return { given, unknown, twice };
}

/**
 * How a refusal reads: each class once with its count, what still works, and a length cap. A refusal
 * can concern hundreds of layers (NASNet has over a thousand); the message stays short and names each
 * class once ("Conv2D ×12, ZeroPadding2D ×4"), while the error's details keep every one.
 */

import { TfbridgeError } from "../errors.js";

/** The longest refusal message; the full list is in the error's details. */
export const MAX_MESSAGE_CHARS = 600;

/** What a model without a TF.js twin can still do, for messages. */
export const PYTHON_STILL_WORKS =
  "The model still runs in Python: bridge.loadModel(path) or pool.loadModel(path) and predict, handle.exportSavedModel(dir) for tf.node.loadSavedModel, and bridge.python proxies.";

/** "Conv2D ×12, ZeroPadding2D ×4": each class once, the most frequent first (ties: first seen). */
export function classCounts(problems: readonly { class?: string }[]): string {
  const counts = new Map<string, number>();
  for (const p of problems) counts.set(p.class ?? "?", (counts.get(p.class ?? "?") ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([cls, n]) => `${cls} ×${n}`).join(", ");
}

/** `message`, cut at `limit` characters with a pointer to the full list. */
export function capped(message: string, limit = MAX_MESSAGE_CHARS): string {
  if (message.length <= limit) return message;
  const tail = " … (every one is in the error's details)";
  return message.slice(0, limit - tail.length) + tail;
}

/**
 * A model (or one of its layers) that TF.js cannot compute as Keras does; `reasons` lists each (with
 * its class where known). The message names each class once with a count, says what still works, and
 * is capped in length.
 */
export class TfjsUnsupportedModelError extends TfbridgeError {
  override name = "TfjsUnsupportedModelError";
  constructor(
    readonly reasons: { layer: string; reason: string; class?: string }[],
    /** The model's file or name, when known. */
    readonly model?: string,
  ) {
    const classes = reasons.every((r) => r.class) ? `no TF.js twin for ${classCounts(reasons)}. ` : "";
    const listed = reasons.map((r) => `${r.layer}: ${r.reason}`).join("; ");
    super(capped(`${model ? `${model}: ` : ""}TF.js cannot reproduce this model: ${classes}${PYTHON_STILL_WORKS} ${listed}`));
  }
}

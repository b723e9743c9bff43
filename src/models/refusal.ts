/**
 * How a refusal reads: each class once with its count, what still works, and a length cap. A refusal
 * can concern hundreds of layers (NASNet has over a thousand); the message stays short and names each
 * class once ("Conv2D ×12, ZeroPadding2D ×4"), while the error's details keep every one.
 */

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

import { ModelError } from "../errors.js";
import { readProtocolFile } from "../paths.js";

/**
 * Bounds on a model config's size and shape (protocol/bounds.json, which the worker reads too:
 * python/tfbridge_worker/models/bounds.py), checked before a description is sent. Keras's own costs
 * grow past what a worker survives well before a config is large: building takes seconds per hundred
 * layers, and a Sequential is built from its config by rebuilding it after every layer added (time
 * grows with the square of its length: 500 layers took over a minute). Every Keras Application fits
 * well inside each bound; docs/security.md states them. The walks here are iterative, so a config too
 * deep for a recursive one is refused, not crashed on.
 */

/** The bounds on a config, as protocol/bounds.json states them. */
export interface ConfigBounds {
  /** Layers in all, nested models' layers included. */
  maxLayers: number;
  /** Layers of one Sequential model. */
  maxSequentialLayers: number;
  /** Nesting of the config's JSON objects and arrays. */
  maxDepth: number;
  /** Bytes of a config file (config.json in a .keras file, model_config in an .h5 file). */
  maxBytes: number;
}

/** The defaults every config is checked against, from protocol/bounds.json. */
export const CONFIG_BOUNDS: Readonly<ConfigBounds> = readProtocolFile<{ config: ConfigBounds }>("bounds.json").config;

function over(source: string | undefined, what: string, found: number, shown: string, bound: keyof ConfigBounds): ModelError {
  const limit = CONFIG_BOUNDS[bound];
  return new ModelError(
    `${source ?? "config"}: ${what} is ${shown}, over the bound of ${limit.toLocaleString("en-US")} (${bound}; docs/security.md); refused before it was sent`,
    { file: source, bound, limit, found },
  );
}

/** How deeply `value`'s arrays and objects nest (a scalar: 0), counting no further than `limit` + 1. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    deepest = Math.max(deepest, depth);
    if (depth > limit) break;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Every object in `value`, depth first (iterative). */
function* objects(value: unknown): Generator<Record<string, unknown>> {
  const stack = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== "object" || node === null) continue;
    if (!Array.isArray(node)) yield node as Record<string, unknown>;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push(child);
  }
}

/**
 * Throws if `config` is over a bound: nesting depth, layers in all, layers of one Sequential (see
 * {@link CONFIG_BOUNDS}).
 * @throws {ModelError} naming what was counted, the count and the bound (`details.bound`, `limit`, `found`).
 */
export function checkConfigBounds(config: unknown, source?: string): void {
  const depth = nestingDepth(config, CONFIG_BOUNDS.maxDepth);
  if (depth > CONFIG_BOUNDS.maxDepth) throw over(source, "the config's nesting depth", depth, `more than ${CONFIG_BOUNDS.maxDepth}`, "maxDepth");
  const models: { name: string; sequential: boolean; layers: unknown[] }[] = [];
  for (const node of objects(config)) {
    const inner = node.config as { layers?: unknown; name?: unknown } | undefined;
    const layers = typeof inner === "object" && inner !== null ? inner.layers : undefined;
    if (Array.isArray(layers)) models.push({ name: String(inner!.name ?? "?"), sequential: node.class_name === "Sequential", layers });
  }
  const total = models.reduce((n, m) => n + m.layers.length, 0);
  if (total > CONFIG_BOUNDS.maxLayers) throw over(source, "the number of layers (nested models' layers included)", total, String(total), "maxLayers");
  for (const { name, sequential, layers } of models) {
    if (sequential && layers.length > CONFIG_BOUNDS.maxSequentialLayers) {
      throw over(source, `the number of layers of Sequential ${name}`, layers.length, String(layers.length), "maxSequentialLayers");
    }
  }
}

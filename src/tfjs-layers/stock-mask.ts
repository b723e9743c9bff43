import type { Kwargs, Tensor } from "./tfjs-types.js";

/**
 * `ignore_mask` in a layer's config (TF.js reads it as `ignoreMask`): Keras gives this layer no mask.
 *
 * TF.js 4.22's model executor (tfjs-layers engine/executor.ts `execute`, which `predict` and `apply`
 * use) keeps one `kwargs` object for the whole graph and sets `kwargs.mask` only at nodes whose
 * inputs carry a mask: every node after the first masked one receives a stale mask, including
 * layers on an unmasked branch. `tfbridge convert` marks the layers Keras runs unmasked, so a
 * converted model computes Keras's values under stock `predict`.
 */
export const IGNORE_MASK = "ignoreMask";
/** {@link IGNORE_MASK} as a model.json spells it (snake_case, camel-cased by TF.js on load). */
export const IGNORE_MASK_KEY = "ignore_mask";

/** The config value of {@link IGNORE_MASK} given to a layer's constructor, `false` when absent. */
export function ignoresMask(args: unknown): boolean {
  return (args as Record<string, unknown> | undefined)?.[IGNORE_MASK] === true;
}

/** The mask a single-input layer computes with: none when it is marked {@link IGNORE_MASK}. */
export function layerMask(kwargs: Kwargs, ignore: boolean): Tensor | null {
  return ignore ? null : ((kwargs["mask"] as Tensor | null | undefined) ?? null);
}

/**
 * The per-input masks a merge computes with. tfbridge's own graph walk passes a list; TF.js's
 * executor passes only the first input's mask as one tensor (the converter refuses a merge that
 * would need another input's mask there), so a lone tensor stands for input 0.
 */
export function mergeMasks(kwargs: Kwargs, ignore: boolean, inputs: number): (Tensor | null)[] | null {
  const mask = kwargs["mask"] as Tensor | (Tensor | null | undefined)[] | null | undefined;
  if (ignore || mask == null) return null;
  if (Array.isArray(mask)) return mask.map((m) => m ?? null);
  return Array.from({ length: inputs }, (_, i) => (i === 0 ? mask : null));
}

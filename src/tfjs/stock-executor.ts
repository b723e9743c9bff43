import { ATTENTION_CLASSES, IGNORE_MASK_KEY, TFBRIDGE_CLASS_PREFIX, TFBRIDGE_GLOBAL_AVERAGE_POOLING_1D, TFBRIDGE_GRU, TFBRIDGE_LSTM, TFBRIDGE_MERGE_PREFIX, TFBRIDGE_SIMPLE_RNN, TFBRIDGE_SOFTMAX } from "../tfjs-layers/index.js";
import { MASKED_VALUE_MERGES, MERGE_CLASSES } from "../tfjs-layers/names.js";
import { type TfjsTopology, withWrapped } from "./topology.js";

/** Our classes that compute with the mask TF.js's executor hands them (the rest ignore it or make their own). */
const MASK_CONSUMERS = new Set([
  TFBRIDGE_LSTM,
  TFBRIDGE_GRU,
  TFBRIDGE_SIMPLE_RNN,
  TFBRIDGE_GLOBAL_AVERAGE_POOLING_1D,
  TFBRIDGE_SOFTMAX,
  ...MERGE_CLASSES.map((cls) => `${TFBRIDGE_MERGE_PREFIX}${cls}`),
  ...Object.values(ATTENTION_CLASSES),
]);
/** Our attention classes: they compute with every input's mask (query, value, key). */
const ATTENTION_CLASS_NAMES = new Set(Object.values(ATTENTION_CLASSES));
const MASKED_VALUE_MERGE_CLASSES = new Set(MASKED_VALUE_MERGES.map((cls) => `${TFBRIDGE_MERGE_PREFIX}${cls}`));

/**
 * The topology a converted model.json carries, so that TF.js's own `predict` computes what Keras
 * does. TF.js 4.22's executor hands a layer a stale mask when Keras gives it none (see
 * tfjs-layers/stock-mask.ts): each mask-consuming layer (or wrapped layer) that Keras runs
 * unmasked is marked `ignore_mask`. The executor also gives a merge
 * only its first input's mask, which Maximum and Multiply cannot compute with when another input
 * is masked: such a merge is one of the returned reasons, as is an attention layer whose value or
 * key is masked.
 * @param masked per layer, which of its inputs carry a Keras mask (TfjsModel.maskedInputs).
 */
export function forStockExecutor(topology: TfjsTopology, masked: ReadonlyMap<string, readonly boolean[]>): { topology: TfjsTopology; reasons: { layer: string; reason: string }[] } {
  const reasons: { layer: string; reason: string }[] = [];
  const copy = structuredClone(topology);
  for (const entry of copy.config.layers) {
    const flags = masked.get(entry.name) ?? [];
    const unmasked = !flags.some(Boolean);
    if (MASKED_VALUE_MERGE_CLASSES.has(entry.class_name) && flags.slice(1).some(Boolean)) {
      reasons.push({ layer: entry.name, reason: `${entry.class_name.slice(TFBRIDGE_MERGE_PREFIX.length)} computes with the masks of inputs after the first, which TF.js's predict does not pass to a layer` });
    }
    if (ATTENTION_CLASS_NAMES.has(entry.class_name) && flags.slice(1).some(Boolean)) {
      reasons.push({ layer: entry.name, reason: `${entry.class_name.slice(TFBRIDGE_CLASS_PREFIX.length)} computes with the masks of its value and key, which TF.js's predict does not pass to a layer` });
    }
    if (!unmasked) continue;
    // A wrapper hands the mask it is given on to the layer inside (TF.js's Bidirectional and
    // TimeDistributed both do), so what it wraps is unmasked too.
    for (const layer of withWrapped(entry)) if (MASK_CONSUMERS.has(layer.class_name)) layer.config[IGNORE_MASK_KEY] = true;
  }
  return { topology: copy, reasons };
}

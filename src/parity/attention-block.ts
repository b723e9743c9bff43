import type { SymbolicTensor } from "../models/builder.js";
import { layers } from "../models/layers.js";

/** The model generator's seeded choices (see model-generator.ts). */
export interface AttentionChoices {
  int(low: number, high: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/**
 * A random attention block on a [batch, steps, channels] sequence, for the model sweep; keeps its
 * shape. MultiHeadAttention over the sequence itself or over a Dense projection of it (a value and key
 * of another width, the same steps and mask), any head count and sizes, with or without bias, causal
 * or not, with dropout > 0 now and then (Keras then computes the scores explicitly rather than with
 * dot_product_attention); or Attention (dot or concat, scaled or not) or AdditiveAttention of the
 * sequence over a projection of it, causal or not.
 */
export function attentionBlock(c: AttentionChoices, x: SymbolicTensor, channels: number): SymbolicTensor {
  const kind = c.pick(["mha", "mha", "attention", "additive"] as const);
  const useCausalMask = c.chance(0.3);
  if (kind === "mha") {
    const mha = layers.multiHeadAttention({
      numHeads: c.int(1, 3),
      keyDim: c.int(1, 4),
      valueDim: c.chance(0.3) ? c.int(1, 4) : undefined,
      useBias: c.chance(0.8),
      dropout: c.chance(0.2) ? 0.2 : undefined,
    });
    const value = c.chance(0.3) ? layers.dense({ units: c.int(1, 6) }).apply(x) : x;
    return mha.apply(x, { value, useCausalMask });
  }
  // The value has the query's width: Attention's dot scores and the output's width need it.
  const value = layers.dense({ units: channels }).apply(x);
  const layer = kind === "attention" ? layers.attention({ useScale: c.chance(0.5), scoreMode: c.pick(["dot", "concat"] as const) }) : layers.additiveAttention({ useScale: c.chance(0.7) });
  return layer.apply([x, value], { useCausalMask });
}

import type { KerasLayerConfig } from "../models/config.js";

/**
 * Where TF.js cannot run the ops Keras 3 runs on the TF backend, so tfjs-node cannot be bit-exact
 * even on identical inputs: the op that differs, and the bound (measured by `tfbridge parity
 * sweep`) that a layer using it is held to. Everything absent here must be bit-exact;
 * the classes TF.js computes in another order are replaced by tfbridge's own (src/tfjs-layers/).
 */
export interface LayerBound {
  /** The largest absolute difference allowed on tfjs-node against the Session, inputs being equal. */
  atol: number;
  /** The op-level cause. */
  reason: string;
}

/** Bounds by Keras activation name, for any layer that applies that activation. */
export const ACTIVATION_BOUNDS: Readonly<Record<string, LayerBound>> = {
  gelu: {
    atol: 2.5e-7,
    reason:
      "gelu: TensorFlow computes 0.5·x·erfc(−x/√2) (tf.nn.gelu); TF.js has no erfc op and computes x·0.5·(1 + erf(x/√2)), " +
      "whose cancellation for negative x costs up to a few float32 steps of the output's magnitude",
  },
};

/** The bound that applies to a layer with this config (its own activation, or its wrapped layer's), or null. */
export function boundFor(config: KerasLayerConfig | undefined): LayerBound | null {
  if (!config) return null;
  const inner = config.config.layer as KerasLayerConfig | undefined;
  for (const c of [config.config, inner?.config]) {
    for (const key of ["activation", "recurrent_activation"]) {
      const bound = c && Object.hasOwn(ACTIVATION_BOUNDS, c[key] as string) ? ACTIVATION_BOUNDS[c[key] as string] : undefined;
      if (bound) return bound;
    }
  }
  return null;
}

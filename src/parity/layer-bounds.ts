/**
 * Layers whose TF.js implementation runs different ops from Keras 3's on the TF backend, so tfjs-node
 * cannot be bit-exact even on identical inputs: the op that differs, and the bound measured by
 * `tfbridge parity --model-sweep` that the layer is held to. A class absent here must be exact.
 */
export interface LayerBound {
  /** The largest ULP distance allowed on tfjs-node against the Session, inputs being equal. */
  ulp: number;
  /** The op-level cause. */
  reason: string;
}

export const LAYER_BOUNDS: Readonly<Record<string, LayerBound>> = {};

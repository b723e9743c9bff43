import { TFBRIDGE_BATCH_NORMALIZATION, TFBRIDGE_LAYER_NORMALIZATION } from "./names.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type LayerNormalization = ReturnType<TfModule["layers"]["layerNormalization"]>;
type BatchNormalization = ReturnType<TfModule["layers"]["batchNormalization"]>;
type Variable = { read(): Tensor };

export interface TfbridgeLayerNormalizationClass {
  new (args: Parameters<TfModule["layers"]["layerNormalization"]>[0]): LayerNormalization;
  readonly className: string;
}
export interface TfbridgeBatchNormalizationClass {
  new (args: Parameters<TfModule["layers"]["batchNormalization"]>[0]): BatchNormalization;
  readonly className: string;
}

function registered<T>(tf: TfModule, name: string): T {
  // TF.js exports these classes only through the registry (tf.layers.* makes instances).
  return tf.serialization.SerializationMap.getMap().classNameMap[name]![0] as unknown as T;
}

/**
 * Keras 3's LayerNormalization as a TF.js class: TF.js's own (same weights gamma, beta; same config)
 * computing with the ops of keras/src/ops/nn.py `_layer_normalization` on the TF backend, in their
 * order: `tf.nn.moments` (mean, then the mean of the squared difference), `inv = rsqrt(var + eps)`,
 * `inv *= gamma`, `res = -mean * inv + beta`, `x * inv + res`. TF.js's own LayerNormalization
 * computes `(x - mean) * rsqrt(var + eps) * gamma + beta`, which the model sweep measured at up to
 * 64 ULP from Keras on identical inputs; this one is bit-identical on tfjs-node.
 */
export function defineLayerNormalization(tf: TfModule): TfbridgeLayerNormalizationClass {
  const Base = registered<new (args?: object) => LayerNormalization>(tf, "LayerNormalization");
  return class TfbridgeLayerNormalization extends Base {
    static readonly className = TFBRIDGE_LAYER_NORMALIZATION;

    override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
      const self = this as unknown as { axis: number[]; epsilon: number; gamma?: Variable; beta?: Variable; scale: boolean; center: boolean };
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const rank = x.rank;
        const axes = self.axis.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
        const broadcast = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
        const shaped = (v: Tensor) => (axes.length === 1 && axes[0] === rank - 1 ? v : tf.reshape(v, broadcast));
        const mean = tf.mean(x, axes, true);
        const variance = tf.mean(tf.squaredDifference(x, mean), axes, true);
        let inv = tf.rsqrt(tf.add(variance, tf.scalar(self.epsilon)));
        if (self.scale && self.gamma) inv = tf.mul(inv, shaped(self.gamma.read()));
        let res = tf.mul(tf.neg(mean), inv);
        if (self.center && self.beta) res = tf.add(res, shaped(self.beta.read()));
        return tf.add(tf.mul(x, inv), res);
      });
    }
  };
}

/**
 * Keras 3's BatchNormalization at inference as a TF.js class: TF.js's own (same weights gamma, beta,
 * moving mean, moving variance) computing `tf.nn.batch_normalization` as Keras 3 calls it:
 * `inv = rsqrt(var + eps)`, `inv *= gamma`, `x * inv + (beta - mean * inv)`. TF.js's own
 * batchNorm computes `(x - mean) * inv + beta`-style sums in another order (measured: up to 16 ULP).
 */
export function defineBatchNormalization(tf: TfModule): TfbridgeBatchNormalizationClass {
  const Base = registered<new (args?: object) => BatchNormalization>(tf, "BatchNormalization");
  return class TfbridgeBatchNormalization extends Base {
    static readonly className = TFBRIDGE_BATCH_NORMALIZATION;

    override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
      const self = this as unknown as {
        axis: number; epsilon: number; scale: boolean; center: boolean; gamma?: Variable; beta?: Variable; movingMean: Variable; movingVariance: Variable;
      };
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const axis = self.axis < 0 ? self.axis + x.rank : self.axis;
        const shaped = (v: Tensor) => (axis === x.rank - 1 ? v : tf.reshape(v, x.shape.map((d, i) => (i === axis ? d : 1))));
        const mean = shaped(self.movingMean.read());
        let inv = tf.rsqrt(tf.add(shaped(self.movingVariance.read()), tf.scalar(self.epsilon)));
        if (self.scale && self.gamma) inv = tf.mul(inv, shaped(self.gamma.read()));
        const offset = self.center && self.beta ? tf.sub(shaped(self.beta.read()), tf.mul(mean, inv)) : tf.mul(tf.neg(mean), inv);
        return tf.add(tf.mul(x, inv), offset);
      });
    }
  };
}

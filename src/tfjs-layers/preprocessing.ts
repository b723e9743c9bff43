import { TFBRIDGE_CATEGORY_ENCODING, TFBRIDGE_IDENTITY, TFBRIDGE_NORMALIZATION } from "./names.js";
import type { Tensor, TfModule } from "./tfjs-types.js";

type Layer = InstanceType<TfModule["layers"]["Layer"]>;
type Variable = { read(): Tensor };
type Shape = (number | null)[];

/** What `registerKerasLayers` registers as `TfbridgeIdentity` and `TfbridgeNormalization`. */
export interface TfbridgePreprocessingClass {
  new (args?: object): Layer;
  readonly className: string;
}

const one = (inputs: Tensor | Tensor[]) => (Array.isArray(inputs) ? inputs[0]! : inputs);

/**
 * Keras 3's Identity, and the random augmentation layers (RandomFlip, RandomRotation, …), which
 * at inference return their input (keras/src/layers/preprocessing/image_preprocessing: each one's
 * transformation applies only when `training`). Any argument is accepted and kept out of the way.
 */
export function defineIdentity(tf: TfModule): TfbridgePreprocessingClass {
  return class TfbridgeIdentity extends tf.layers.Layer {
    static readonly className = TFBRIDGE_IDENTITY;
    constructor(args: object = {}) {
      super(args as never);
      this.supportsMasking = true;
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.clone(one(inputs));
    }
  };
}

interface NormalizationArgs {
  axis?: number | number[];
  mean?: number | unknown[] | null;
  variance?: number | unknown[] | null;
  invert?: boolean;
}

/** Keras's backend.epsilon(), as the float32 `ops.maximum` compares with. */
const EPSILON = 1e-7;

/**
 * Keras 3's Normalization (keras/src/layers/preprocessing/normalization.py) as a TF.js class.
 * With `mean` and `variance` in the config, they are reshaped onto the kept axes (right to left)
 * and broadcast; without, the layer has Keras's weights `mean`, `variance` (the kept axes' shape)
 * and `count` (int, unused at inference), as `adapt()` leaves them. Then Keras's call:
 * `(x - mean) / maximum(sqrt(variance), 1e-7)`, or with `invert`, `mean + x * maximum(sqrt(variance), 1e-7)`.
 */
export function defineNormalization(tf: TfModule): TfbridgePreprocessingClass {
  return class TfbridgeNormalization extends tf.layers.Layer {
    static readonly className = TFBRIDGE_NORMALIZATION;
    readonly axis: number[];
    readonly mean: NormalizationArgs["mean"];
    readonly variance: NormalizationArgs["variance"];
    readonly invert: boolean;
    private broadcastShape: number[] = [];
    private keepAxis: number[] = [];
    private adapted: { mean: Variable; variance: Variable } | null = null;

    constructor(args: NormalizationArgs & object = {}) {
      super(args as never);
      this.supportsMasking = true;
      this.axis = args.axis === undefined ? [-1] : Array.isArray(args.axis) ? args.axis : [args.axis];
      this.mean = args.mean ?? null;
      this.variance = args.variance ?? null;
      this.invert = args.invert ?? false;
    }

    override build(inputShape: Shape | Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      const ndim = shape.length;
      this.keepAxis = this.axis.map((d) => (d < 0 ? d + ndim : d)).sort((a, b) => a - b);
      for (const d of this.keepAxis) {
        if (d < 0 || d >= ndim || shape[d] === null) throw new Error(`${TFBRIDGE_NORMALIZATION}: axis ${d} must be a known dimension of an input of shape ${JSON.stringify(shape)}`);
      }
      this.broadcastShape = shape.map((d, i) => (this.keepAxis.includes(i) ? d! : 1));
      if (this.mean === null) {
        const kept = this.keepAxis.map((d) => shape[d]!);
        const mean = this.addWeight("mean", kept, "float32", tf.initializers.zeros(), undefined, false);
        const variance = this.addWeight("variance", kept, "float32", tf.initializers.ones(), undefined, false);
        this.addWeight("count", [], "int32", tf.initializers.zeros(), undefined, false);
        this.adapted = { mean, variance };
      }
      this.built = true;
    }

    /** normalization.py build: a config value as a float32 tensor on the kept axes, broadcast. */
    private fromConfig(value: number | unknown[]): Tensor {
      const t = tf.tensor(value as number[], undefined, "float32");
      if (t.rank === 0) return tf.broadcastTo(t, this.broadcastShape);
      const expanded = this.broadcastShape.map(() => 1);
      for (let i = 1; i <= t.rank; i++) expanded[this.keepAxis[this.keepAxis.length - i]!] = t.shape[t.rank - i]!;
      return tf.broadcastTo(tf.reshape(t, expanded), this.broadcastShape);
    }

    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = tf.cast(one(inputs), "float32");
        const mean = this.adapted ? tf.reshape(this.adapted.mean.read(), this.broadcastShape) : this.fromConfig(this.mean!);
        const variance = this.adapted ? tf.reshape(this.adapted.variance.read(), this.broadcastShape) : this.fromConfig(this.variance!);
        const scale = tf.maximum(tf.sqrt(variance), tf.scalar(EPSILON, "float32"));
        return this.invert ? tf.add(mean, tf.mul(x, scale)) : tf.div(tf.sub(x, mean), scale);
      });
    }

    override getConfig() {
      return { ...super.getConfig(), axis: this.axis, mean: this.mean, variance: this.variance, invert: this.invert } as never;
    }
  };
}

/** What `registerKerasLayers` registers as `TfbridgeCategoryEncoding`. */
export interface TfbridgeCategoryEncodingClass {
  new (args: CategoryEncodingArgs): Layer;
  readonly className: string;
}

export interface CategoryEncodingArgs {
  numTokens: number;
  /** Keras's one_hot, multi_hot, count, camel-cased by TF.js on load (a direct caller may pass either). */
  outputMode?: string;
}

/**
 * Keras 3's CategoryEncoding (keras/src/utils/numerical_utils.py encode_categorical_inputs) as a
 * TF.js class, from one-hot rows: `one_hot` (a trailing axis of 1 replaced by the tokens),
 * `multi_hot` (any of the last axis's ids) and `count` (how many), float32 as Keras's layer
 * returns; ids outside [0, num_tokens) count for nothing, as with TF's bincount. Every value is a
 * small integer, so exact on any backend. TF.js's own class needs the DenseBincount kernel, which
 * tfjs-node 4.22 does not register.
 */
export function defineCategoryEncoding(tf: TfModule): TfbridgeCategoryEncodingClass {
  return class TfbridgeCategoryEncoding extends tf.layers.Layer {
    static readonly className = TFBRIDGE_CATEGORY_ENCODING;
    readonly numTokens: number;
    readonly outputMode: "one_hot" | "multi_hot" | "count";

    constructor(args: CategoryEncodingArgs) {
      super(args as never);
      this.numTokens = args.numTokens;
      const mode = (args.outputMode ?? "multi_hot").replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      if (mode !== "one_hot" && mode !== "multi_hot" && mode !== "count") throw new Error(`${TFBRIDGE_CATEGORY_ENCODING}: output_mode ${args.outputMode} is not one_hot, multi_hot or count`);
      this.outputMode = mode;
    }

    /** category_encoding.py compute_output_shape. */
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const shape = inputShape as Shape;
      if (shape.length === 0) return [this.numTokens];
      if (this.outputMode === "one_hot" && shape[shape.length - 1] !== 1) return [...shape, this.numTokens];
      return [...shape.slice(0, -1), this.numTokens];
    }

    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        let ids = tf.cast(one(inputs), "int32");
        if (this.outputMode === "one_hot") {
          if (ids.rank > 1 && ids.shape[ids.rank - 1] === 1) ids = tf.squeeze(ids, [-1]);
          return tf.cast(tf.oneHot(ids, this.numTokens), "float32");
        }
        if (ids.rank === 1) ids = tf.expandDims(ids, 1);
        const rows = tf.cast(tf.oneHot(ids, this.numTokens), "float32");
        return this.outputMode === "count" ? tf.sum(rows, -2) : tf.max(rows, -2);
      });
    }

    override getConfig() {
      return { ...super.getConfig(), numTokens: this.numTokens, outputMode: this.outputMode };
    }
  };
}

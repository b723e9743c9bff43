import { TFBRIDGE_DOT } from "./names.js";
import type { Tensor, TfModule } from "./tfjs-types.js";

type Layer = InstanceType<TfModule["layers"]["Layer"]>;
type Shape = (number | null)[];

/** What `registerKerasLayers` registers as `TfbridgeDot`. */
export interface TfbridgeDotClass {
  new (args: { axes: number | number[]; normalize?: boolean }): Layer;
  readonly className: string;
}

/** Keras's 1 / backend.epsilon() as the float32 `ops.minimum` compares with. */
const INV_EPSILON = 1 / 1e-7;

/**
 * Keras 3's Dot (keras/src/layers/merging/dot.py) as a TF.js class: optional l2 normalization as
 * ops.nn.normalize computes it (`x * minimum(rsqrt(sum(x²)), 1/eps)`), then Keras's batch_dot: the
 * contracted axis moved last in x and to position 1 in y, extra axes squashed, one matmul, reshaped
 * back. TF.js's Dot sums products for rank 2 and refuses rank 4 and more.
 */
export function defineDot(tf: TfModule): TfbridgeDotClass {
  return class TfbridgeDot extends tf.layers.Layer {
    static readonly className = TFBRIDGE_DOT;
    readonly axes: number | number[];
    readonly normalize: boolean;

    constructor(args: { axes: number | number[]; normalize?: boolean }) {
      super(args as never);
      this.axes = args.axes;
      this.normalize = args.normalize ?? false;
      // Keras's Dot takes masked inputs and gives no mask (dot.py compute_mask); TF.js's base class
      // would throw on a mask instead.
      this.supportsMasking = true;
    }

    override computeMask(): Tensor {
      return null as unknown as Tensor; // TF.js's signature has no null, but its engine treats null as "no mask"
    }

    /** dot.py `_merge_function`: negative axes taken modulo each input's rank. */
    private axesFor(ranks: [number, number]): [number, number] {
      const axes = Array.isArray(this.axes) ? this.axes : [this.axes, this.axes];
      return [0, 1].map((i) => ((axes[i]! % ranks[i]!) + ranks[i]!) % ranks[i]!) as [number, number];
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const [s1, s2] = (inputShape as Shape[]).map((s) => [...s]);
      const [a0, a1] = this.axesFor([s1!.length, s2!.length]);
      s1!.splice(a0, 1);
      s2!.splice(a1, 1);
      s2!.shift();
      const out = [...s1!, ...s2!];
      return out.length === 1 ? [...out, 1] : out;
    }

    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const xs = inputs as Tensor[];
        if (xs.length !== 2) throw new Error(`${TFBRIDGE_DOT} takes exactly 2 inputs, got ${xs.length}`);
        let [x, y] = xs as [Tensor, Tensor];
        const axes = this.axesFor([x.rank, y.rank]);
        if (this.normalize) {
          x = l2Normalize(x, axes[0]);
          y = l2Normalize(y, axes[1]);
        }
        return batchDot(x, y, axes);
      });
    }

    override getConfig() {
      return { ...super.getConfig(), axes: this.axes, normalize: this.normalize };
    }
  };

  function l2Normalize(x: Tensor, axis: number): Tensor {
    const inv = tf.rsqrt(tf.sum(tf.square(x), axis, true));
    return tf.mul(x, tf.minimum(inv, tf.scalar(INV_EPSILON, "float32")));
  }

  /** dot.py batch_dot, step by step. */
  function batchDot(x0: Tensor, y0: Tensor, [axis0, axis1]: [number, number]): Tensor {
    let x = x0;
    let y = y0;
    let a0 = axis0;
    if (x.rank === 2) {
      x = tf.expandDims(x, 1);
      a0 += 1;
    }
    if (y.rank === 2) y = tf.expandDims(y, 2);
    if (a0 !== x.rank - 1) {
      const pattern = [...Array(x.rank).keys()];
      for (let i = a0; i < x.rank - 1; i++) pattern[i] = pattern[i + 1]!;
      pattern[x.rank - 1] = a0;
      x = tf.transpose(x, pattern);
    }
    if (axis1 !== 1) {
      const pattern = [...Array(y.rank).keys()];
      for (let i = axis1; i > 1; i--) pattern[i] = pattern[i - 1]!;
      pattern[1] = axis1;
      y = tf.transpose(y, pattern);
    }
    const xMid = x.shape.slice(1, -1);
    const yTrail = y.shape.slice(2);
    if (x.rank > 3) x = tf.reshape(x, [x.shape[0]!, -1, x.shape[x.rank - 1]!]);
    if (y.rank > 3) y = tf.reshape(y, [y.shape[0]!, y.shape[1]!, -1]);
    let result = tf.matMul(x, y);
    let shape = result.shape;
    if (xMid.length > 1) shape = [shape[0]!, ...xMid, shape[shape.length - 1]!];
    if (yTrail.length > 1) shape = [...shape.slice(0, -1), ...yTrail];
    if (xMid.length > 1 || yTrail.length > 1) result = tf.reshape(result, shape);
    if (x0.rank === 2) return tf.squeeze(result, [1]);
    if (y0.rank === 2) return tf.squeeze(result, [-1]);
    return result;
  }
}

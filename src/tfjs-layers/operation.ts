import { TFBRIDGE_OPERATION } from "./names.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type Layer = InstanceType<TfModule["layers"]["Layer"]>;
type Shape = (number | null)[];

/** A slice of a GetItem index (`x[1:3]`): Python's start, stop and step, null where left out. */
export interface IndexSlice {
  start: number | null;
  stop: number | null;
  step: number | null;
}

/** The arguments of a {@link TFBRIDGE_OPERATION} layer: one Keras 3 operation node. */
export interface TfbridgeOperationArgs {
  name?: string;
  /** What to compute: a `compute` name of protocol/layers.json `operations` (`add`, `mean`, `getItem`, …). */
  compute: string;
  /**
   * The node's positional arguments: `{input: i}` where the layer's i-th input tensor goes, numbers
   * as given, lists as given (Concatenate's list of tensors; GetItem's index of integers and slices).
   */
  template: unknown[];
  /** The operation's own config (`axis`, `keepdims`, `newshape`, `axes`, …). */
  options?: Record<string, unknown>;
}

/** The registered {@link TFBRIDGE_OPERATION} class. */
export interface TfbridgeOperationClass {
  new (args: TfbridgeOperationArgs): Layer & { readonly compute: string };
  readonly className: string;
}

const axes = (axis: unknown, rank: number): number[] => (axis === null || axis === undefined ? [...Array(rank).keys()] : (Array.isArray(axis) ? axis : [axis]).map((a: number) => (a < 0 ? a + rank : a)));

/** numpy's broadcast of two shapes (null: unknown). */
function broadcast(a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const at = (s: Shape) => (s.length - rank + i >= 0 ? s[s.length - rank + i]! : 1);
    const [x, y] = [at(a), at(b)];
    return x === 1 ? y : y === 1 ? x : (x ?? y);
  });
}

/** The begin/end/strides/masks of TF's strided_slice for a Python index of integers and slices (what `x[key]` runs). */
function stridedSlice(shape: Shape, index: (number | IndexSlice)[]) {
  const begin: number[] = [];
  const end: number[] = [];
  const strides: number[] = [];
  let beginMask = 0;
  let endMask = 0;
  let shrinkMask = 0;
  const out: Shape = [];
  index.forEach((k, i) => {
    if (typeof k === "number") {
      begin.push(k);
      end.push(k + 1);
      strides.push(1);
      shrinkMask |= 1 << i;
      return;
    }
    const step = k.step ?? 1;
    begin.push(k.start ?? 0);
    end.push(k.stop ?? 0);
    strides.push(step);
    if (k.start === null) beginMask |= 1 << i;
    if (k.stop === null) endMask |= 1 << i;
    const n = shape[i];
    if (n === null || n === undefined) out.push(null);
    else {
      const clamp = (v: number | null, fallback: number) => (v === null ? fallback : Math.min(Math.max(v < 0 ? v + n : v, step > 0 ? 0 : -1), step > 0 ? n : n - 1));
      const from = clamp(k.start, step > 0 ? 0 : n - 1);
      const to = clamp(k.stop, step > 0 ? n : -1);
      out.push(Math.max(0, Math.ceil((to - from) / step)));
    }
  });
  out.push(...shape.slice(index.length));
  return { begin, end, strides, beginMask, endMask, shrinkMask, shape: out };
}

/**
 * Keras 3's operation nodes (`x + y`, `keras.ops.mean(x, axis=1)`, `x[:, 0]` on symbolic tensors) as
 * one TF.js layer class: each `compute` runs what Keras's TensorFlow backend runs for that op
 * (keras/src/backend/tensorflow/numpy.py, nn.py), in float32: numbers take the tensor's dtype as
 * Keras's `result_type` gives them; `matmul` of a rank > 2 tensor by a matrix is TF's `tensordot`
 * (reshape to a matrix, MatMul, reshape back), as Keras computes it. No weights, no masks: Keras 3
 * hands no mask through an operation node.
 */
export function defineOperation(tf: TfModule): TfbridgeOperationClass {
  const unary: Record<string, (x: Tensor) => Tensor> = {
    neg: tf.neg, abs: tf.abs, square: tf.square, sqrt: tf.sqrt, exp: tf.exp, log: tf.log, tanh: tf.tanh,
    relu: tf.relu, relu6: tf.relu6, sigmoid: tf.sigmoid,
    // tf.nn.silu: features * sigmoid(features).
    silu: (x) => tf.mul(x, tf.sigmoid(x)),
  };
  const binary: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
    add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div, maximum: tf.maximum, minimum: tf.minimum, pow: tf.pow,
  };

  return class TfbridgeOperation extends tf.layers.Layer {
    static readonly className = TFBRIDGE_OPERATION;
    readonly compute: string;
    readonly template: unknown[];
    readonly options: Record<string, unknown>;

    constructor(args: TfbridgeOperationArgs) {
      super({ name: args.name });
      if (!(Object.hasOwn(unary, args.compute) || Object.hasOwn(binary, args.compute) || ["matmul", "mean", "sum", "max", "min", "reshape", "transpose", "concat", "expandDims", "squeeze", "softmax", "getItem"].includes(args.compute))) {
        throw new Error(`${TFBRIDGE_OPERATION} ${args.name ?? ""}: unknown computation ${args.compute}`);
      }
      this.compute = args.compute;
      this.template = args.template;
      this.options = args.options ?? {};
    }

    /** The template with the input tensors (or shapes) put where it names them. */
    private fill<T>(inputs: T[]): unknown[] {
      const isInput = (v: unknown): v is { input: number } => typeof v === "object" && v !== null && "input" in v;
      const put = (v: unknown): unknown => (isInput(v) ? inputs[v.input] : Array.isArray(v) && this.compute !== "getItem" ? v.map(put) : v);
      return this.template.map(put);
    }

    override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
      return tf.tidy(() => {
        const args = this.fill(Array.isArray(inputs) ? inputs : [inputs]);
        const o = this.options;
        const tensor = (v: unknown, like: Tensor) => (typeof v === "number" ? tf.scalar(v, like.dtype) : (v as Tensor));
        if (Object.hasOwn(binary, this.compute)) {
          const like = (typeof args[0] === "number" ? args[1] : args[0]) as Tensor;
          return binary[this.compute]!(tensor(args[0], like), tensor(args[1], like));
        }
        const x = args[0] as Tensor;
        if (Object.hasOwn(unary, this.compute)) return unary[this.compute]!(x);
        switch (this.compute) {
          case "matmul": {
            const y = args[1] as Tensor;
            if (x.rank > 2 && y.rank === 2) {
              const k = x.shape[x.rank - 1]!;
              return tf.reshape(tf.matMul(tf.reshape(x, [-1, k]), y), [...x.shape.slice(0, -1), y.shape[1]!]);
            }
            return tf.matMul(x, y);
          }
          case "mean":
            return tf.mean(x, axes(o.axis, x.rank), o.keepdims as boolean);
          case "sum":
            return tf.sum(x, axes(o.axis, x.rank), o.keepdims as boolean);
          case "max":
            return tf.max(x, axes(o.axis, x.rank), o.keepdims as boolean);
          case "min":
            return tf.min(x, axes(o.axis, x.rank), o.keepdims as boolean);
          case "reshape":
            return tf.reshape(x, o.newshape as number[]);
          case "transpose":
            return tf.transpose(x, o.axes === null ? undefined : axes(o.axes, x.rank));
          case "concat":
            return tf.concat(args[0] as Tensor[], o.axis as number);
          case "expandDims":
            return axes(o.axis, x.rank + (Array.isArray(o.axis) ? o.axis.length : 1))
              .sort((a, b) => a - b)
              .reduce((t, a) => tf.expandDims(t, a), x);
          case "squeeze":
            return tf.squeeze(x, o.axis === null ? undefined : axes(o.axis, x.rank));
          case "softmax":
            return tf.softmax(x, -1);
          default: {
            const index = args[1] as (number | IndexSlice)[] | number | IndexSlice;
            const s = stridedSlice(x.shape, Array.isArray(index) ? index : [index]);
            return tf.stridedSlice(x, s.begin, s.end, s.strides, s.beginMask, s.endMask, 0, 0, s.shrinkMask);
          }
        }
      });
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const shapes = (Array.isArray(inputShape[0]) || inputShape.length === 0 ? inputShape : [inputShape]) as Shape[];
      const args = this.fill(shapes);
      const o = this.options;
      const shapeOf = (v: unknown): Shape => (typeof v === "number" ? [] : (v as Shape));
      if (Object.hasOwn(binary, this.compute)) return broadcast(shapeOf(args[0]), shapeOf(args[1]));
      const x = args[0] as Shape;
      if (Object.hasOwn(unary, this.compute) || this.compute === "softmax") return x;
      const reduce = () => {
        const gone = new Set(axes(o.axis, x.length));
        return o.keepdims ? x.map((d, i) => (gone.has(i) ? 1 : d)) : x.filter((_, i) => !gone.has(i));
      };
      switch (this.compute) {
        case "matmul": {
          const y = args[1] as Shape;
          return [...broadcast(x.slice(0, -2), y.slice(0, -2)), x[x.length - 2]!, y[y.length - 1]!];
        }
        case "mean":
        case "sum":
        case "max":
        case "min":
          return reduce();
        case "reshape":
          return (o.newshape as number[]).map((d) => (d === -1 ? null : d));
        case "transpose":
          return (o.axes === null ? [...x.keys()].reverse() : axes(o.axes, x.length)).map((a) => x[a]!);
        case "concat": {
          const parts = args[0] as Shape[];
          const axis = axes(o.axis, parts[0]!.length)[0]!;
          return parts[0]!.map((d, i) => (i !== axis ? d : parts.some((p) => p[i] === null) ? null : parts.reduce((n, p) => n + p[i]!, 0)));
        }
        case "expandDims": {
          const out = [...x];
          for (const a of axes(o.axis, x.length + (Array.isArray(o.axis) ? o.axis.length : 1)).sort((p, q) => p - q)) out.splice(a, 0, 1);
          return out;
        }
        case "squeeze": {
          const gone = new Set(o.axis === null ? x.flatMap((d, i) => (d === 1 ? [i] : [])) : axes(o.axis, x.length));
          return x.filter((_, i) => !gone.has(i));
        }
        default: {
          const index = args[1] as (number | IndexSlice)[] | number | IndexSlice;
          return stridedSlice(x, Array.isArray(index) ? index : [index]).shape;
        }
      }
    }

    override getConfig() {
      return { ...super.getConfig(), compute: this.compute, template: this.template, options: this.options } as ReturnType<Layer["getConfig"]>;
    }
  } as unknown as TfbridgeOperationClass;
}

import { type StaticShape, einsum, kerasEinsum } from "./keras-einsum.js";
import { TFBRIDGE_MULTI_HEAD_ATTENTION } from "./names.js";
import { attentionMasks, byRole, causalMask, shapeList } from "./attention-masks.js";
import { ignoresMask } from "./stock-mask.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type Layer = InstanceType<TfModule["layers"]["Layer"]>;
type Shape = (number | null)[];
type Variable = { read(): Tensor };

/** The TF.js config of {@link TfbridgeMultiHeadAttentionClass} (Keras 3's, camel-cased, plus the call's flags). */
export interface TfbridgeMultiHeadAttentionArgs {
  name?: string;
  numHeads: number;
  keyDim: number;
  valueDim?: number | null;
  /** Inert at inference, but Keras 3 computes another way (explicit scores) when it is above 0. */
  dropout?: number;
  useBias?: boolean;
  useGate?: boolean;
  /** Keras's `output_shape`: the output's dimensions after the batch and attention ones. */
  outputShape?: number[] | null;
  attentionAxes?: number[] | number | null;
  slidingWindow?: number | null;
  /** The call's `use_causal_mask` (a config field here: TF.js replays a layer's call with no flags). */
  useCausalMask?: boolean;
  /** The call's `return_attention_scores`: the layer then has two outputs, as in Keras. */
  returnAttentionScores?: boolean;
  /** Per role (query, value, key, attention_mask), which of the layer's inputs it is; default: the inputs in that order. */
  callInputs?: number[] | null;
}

export interface TfbridgeMultiHeadAttentionClass {
  new (args: TfbridgeMultiHeadAttentionArgs): Layer;
  readonly className: string;
}

const letter = (i: number) => "abcdefghijklmnopqrstuvwxyz"[i]!;

/** multi_head_attention.py `_build_proj_equation`: (equation, bias axes, output rank). */
function projEquation(freeDims: number, boundDims: number, outputDims: number): [string, string, number] {
  let input = "";
  let kernel = "";
  let output = "";
  let bias = "";
  for (let i = 0; i < freeDims; i++) {
    input += letter(i);
    output += letter(i);
  }
  for (let i = 0; i < boundDims; i++) {
    input += letter(freeDims + i);
    kernel += letter(freeDims + i);
  }
  for (let i = 0; i < outputDims; i++) {
    const c = letter(freeDims + boundDims + i);
    kernel += c;
    output += c;
    bias += c;
  }
  return [`${input},${kernel}->${output}`, bias, output.length];
}

/** multi_head_attention.py `_build_attention_equation`: (dot product, combine). */
function attentionEquations(rank: number, axes: number[]): [string, string] {
  const target = Array.from({ length: rank }, (_, i) => letter(i)).join("");
  const batchDims = Array.from({ length: rank }, (_, i) => i).filter((i) => !axes.includes(i) && i !== rank - 1);
  let offset = rank;
  let source = "";
  for (let i = 0; i < rank; i++) source += batchDims.includes(i) || i === rank - 1 ? target[i] : letter(offset++);
  const product = [...batchDims.map((i) => target[i]), ...axes.map((i) => target[i]), ...axes.map((i) => source[i])].join("");
  return [`${source},${target}->${product}`, `${product},${source}->${target}`];
}

/** One of MHA's EinsumDense sublayers: its equation, weights and the static shape of its input. */
interface Projection {
  equation: string;
  kernel: Variable;
  bias: Variable | null;
  input: StaticShape;
  output: StaticShape;
}

/** tf.constant(3.38953e38 * -0.7, float32): keras/src/backend/tensorflow/nn.py `_get_large_negative`. */
const LARGE_NEGATIVE = 3.38953e38 * -0.7;
/** keras/src/layers/activations/softmax.py `_large_negative_number` for float32. */
const SOFTMAX_MASKED = -1e9;

/**
 * Keras 3's MultiHeadAttention as a TF.js class (TF.js 4.22 has none), computing what
 * keras/src/layers/attention/multi_head_attention.py computes on the TensorFlow backend, op for op:
 *
 * - the query, key, value (and gate) and attention_output projections are Keras's EinsumDense
 *   sublayers (`einsum` as Keras's TF backend computes it, see keras-einsum.ts, then `+ bias`), with
 *   Keras's weights in Keras's order and shapes (`query/kernel` [dim, heads, key_dim], …);
 * - with a rank-3 query, no dropout and no scores asked for, Keras 3 calls `ops.dot_product_attention`
 *   (nn.py `_dot_product_attention_xla`): `einsum("BTNH,BSNH->BNTS")`, times the scale, masked
 *   positions set to -0.7 × 3.38953e38, softmax, `einsum("BNTS,BSNH->BTNH")`;
 * - otherwise (`attention_axes` over more axes, `return_attention_scores`, dropout > 0) the explicit
 *   path: the query times 1/√key_dim first, Keras's einsum equations for the scores, the Softmax
 *   layer's masking (-1e9 in, 0 out; exp(x - logsumexp) over several axes), the combine einsum.
 *
 * Inputs by role: `[query, value, key, attention_mask?]`, or the distinct tensors among them with
 * `callInputs` saying which is which (tfbridge's topology gives each tensor once, and the value as
 * the key when the call had none: Keras then projects the value as the key, and the masks agree).
 * The Keras masks arrive as `kwargs.mask` (a list, one per input); the output carries the query's. `useCausalMask` and `returnAttentionScores` are the call's flags.
 */
export function defineMultiHeadAttention(tf: TfModule): TfbridgeMultiHeadAttentionClass {
  const Base = tf.layers.Layer as unknown as new (args?: object) => Layer;
  return class TfbridgeMultiHeadAttention extends Base {
    static readonly className = TFBRIDGE_MULTI_HEAD_ATTENTION;
    readonly numHeads: number;
    readonly keyDim: number;
    readonly valueDim: number;
    readonly dropout: number;
    readonly useBias: boolean;
    readonly useGate: boolean;
    /** Keras's `output_shape` (not `outputShape`: TF.js's Layer has a getter of that name). */
    readonly projectedShape: number[] | null;
    attentionAxes: number[] | null;
    readonly slidingWindow: number | null;
    readonly useCausalMask: boolean;
    readonly returnAttentionScores: boolean;
    readonly ignoreMask: boolean;
    readonly callInputs: number[] | null;
    private projections: Record<"query" | "key" | "value" | "gate" | "output", Projection | null> = { query: null, key: null, value: null, gate: null, output: null };
    private dotEquation = "";
    private combineEquation = "";

    constructor(args: TfbridgeMultiHeadAttentionArgs) {
      super(args);
      this.numHeads = args.numHeads;
      this.keyDim = args.keyDim;
      this.valueDim = args.valueDim ?? args.keyDim;
      this.dropout = args.dropout ?? 0;
      this.useBias = args.useBias ?? true;
      this.useGate = args.useGate ?? false;
      this.projectedShape = args.outputShape ?? null;
      this.attentionAxes = typeof args.attentionAxes === "number" ? [args.attentionAxes] : (args.attentionAxes ?? null);
      this.slidingWindow = args.slidingWindow ?? null;
      this.useCausalMask = args.useCausalMask ?? false;
      this.returnAttentionScores = args.returnAttentionScores ?? false;
      this.ignoreMask = ignoresMask(args);
      this.callInputs = args.callInputs ?? null;
      this.supportsMasking = true;
    }

    override build(inputShape: Shape | Shape[]): void {
      const [query, value, key = value] = byRole(shapeList(inputShape), this.callInputs);
      const zeros = tf.initializers.zeros();
      const project = (name: string, input: StaticShape, bound: number, dims: number[]): Projection => {
        const [equation, biasAxes, outputRank] = projEquation(input.length - bound, bound, dims.length);
        const kernelShape = [...input.slice(input.length - bound), ...dims] as number[];
        const kernel = this.addWeight(`${name}/kernel`, kernelShape, "float32", zeros) as unknown as Variable;
        const bias = this.useBias ? (this.addWeight(`${name}/bias`, dims.slice(dims.length - biasAxes.length), "float32", zeros) as unknown as Variable) : null;
        return { equation, kernel, bias, input, output: [...input.slice(0, outputRank - dims.length), ...dims] };
      };
      // Keras's build order, which is its weights' order: query, key, gate, value, attention_output.
      this.projections.query = project("query", query!, 1, [this.numHeads, this.keyDim]);
      this.projections.key = project("key", key!, 1, [this.numHeads, this.keyDim]);
      if (this.useGate) this.projections.gate = project("gate", query!, 1, [this.numHeads, this.valueDim]);
      this.projections.value = project("value", value!, 1, [this.numHeads, this.valueDim]);
      const rank = this.projections.query.output.length;
      this.attentionAxes = this.attentionAxes === null ? Array.from({ length: rank - 3 }, (_, i) => i + 1) : this.attentionAxes.map((a) => (a >= 0 ? a : rank - 1 + a));
      [this.dotEquation, this.combineEquation] = attentionEquations(rank, this.attentionAxes);
      const combined = [...this.projections.query.output.slice(0, -1), this.valueDim];
      this.projections.output = project("attention_output", combined, 2, this.projectedShape ?? [query![query!.length - 1]!]);
      this.built = true;
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      const [query, value] = byRole(shapeList(inputShape), this.callInputs);
      const output = this.projectedShape ? [...query!.slice(0, -1), ...this.projectedShape] : [...query!];
      if (!this.returnAttentionScores) return output;
      // The scores' shape: the einsum's product notation over [batch…, query axes, heads] and the value's attention axes.
      const axes = this.attentionAxes ?? Array.from({ length: query!.length - 2 }, (_, i) => i + 1);
      const batch = query!.slice(0, -1).filter((_, i) => !axes.includes(i));
      return [output, [...batch, this.numHeads, ...axes.map((a) => query![a]!), ...axes.map((a) => value![a]!)]];
    }

    override computeMask(_inputs: Tensor | Tensor[], mask?: Tensor | Tensor[]): Tensor | Tensor[] {
      const queryMask = this.ignoreMask ? null : Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
      return (this.returnAttentionScores ? [queryMask, null] : queryMask) as unknown as Tensor;
    }

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
      return tf.tidy(() => {
        const xs = Array.isArray(inputs) ? inputs : [inputs];
        const [query, value, key = value, given = null] = byRole(xs, this.callInputs);
        const [queryMask, valueMask, keyMask] = this.ignoreMask ? [null, null, null] : byRole(attentionMasks(kwargs, xs.length), this.callInputs);
        const causalOnly = this.useCausalMask && !queryMask && !valueMask && !keyMask && !given && this.slidingWindow === null;
        const attentionMask = causalOnly ? null : this.attentionMask(query!, value!, queryMask, valueMask, keyMask, given);
        const p = this.projections;
        const gate = p.gate ? tf.sigmoid(this.project(p.gate, query!)) : null;
        const q = this.project(p.query!, query!);
        const k = this.project(p.key!, key!);
        const v = this.project(p.value!, value!);
        const [attended, scores] = this.attend(q, k, v, attentionMask, causalOnly);
        const output = this.project(p.output!, gate ? tf.mul(attended, gate) : attended);
        return this.returnAttentionScores ? [output, scores!] : output;
      });
    }

    /** EinsumDense.call: `einsum(equation, x, kernel)`, then `+ bias`. */
    private project(p: Projection, x: Tensor): Tensor {
      const y = kerasEinsum(tf, p.equation, x, p.kernel.read(), p.input, p.kernel.read().shape);
      return p.bias ? tf.add(y, p.bias.read()) : y;
    }

    /** `_compute_attention_mask`: query [B,T,1] & value [B,1,S] & key [B,1,S] & causal & window [1,T,S], then & the given mask. */
    private attentionMask(query: Tensor, value: Tensor, queryMask: Tensor | null, valueMask: Tensor | null, keyMask: Tensor | null, given: Tensor | null): Tensor | null {
      const parts: Tensor[] = [];
      if (queryMask) parts.push(tf.expandDims(tf.cast(queryMask, "bool"), -1));
      if (valueMask) parts.push(tf.expandDims(tf.cast(valueMask, "bool"), -2));
      if (keyMask) parts.push(tf.expandDims(tf.cast(keyMask, "bool"), -2));
      if (this.useCausalMask) parts.push(causalMask(tf, query.shape[1]!, value.shape[1]!));
      if (this.slidingWindow !== null) parts.push(this.windowMask(query.shape[1]!, value.shape[1]!));
      const auto = parts.length ? parts.reduce((a, b) => tf.logicalAnd(a, b)) : null;
      const cast = given ? tf.cast(given, "bool") : null;
      if (!auto) return cast;
      return cast ? tf.logicalAnd(cast, auto) : auto;
    }

    /** `_compute_sliding_window_mask`: |i - j| < window, shape [1, T, S]. */
    private windowMask(t: number, s: number): Tensor {
      const rows = tf.reshape(tf.range(0, t, 1, "int32"), [1, t, 1]);
      const cols = tf.reshape(tf.range(0, s, 1, "int32"), [1, 1, s]);
      return tf.less(tf.abs(tf.sub(rows, cols)), tf.scalar(this.slidingWindow!, "int32"));
    }

    /** `_compute_attention`: Keras's fused path for rank-4 projections, its explicit path otherwise. */
    private attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, causalOnly: boolean): [Tensor, Tensor | null] {
      const scale = 1 / Math.sqrt(this.keyDim);
      const axes = this.attentionAxes!;
      const expansion = -axes.length * 2 - 1;
      const expand = (m: Tensor, rank: number) => {
        let out = m;
        while (out.rank < rank) out = tf.expandDims(out, expansion);
        return out;
      };
      if (q.rank === 4 && this.dropout === 0 && !this.returnAttentionScores) {
        // nn.py _dot_product_attention_xla, with the mask of _apply_masks.
        let logits = tf.mul(einsum(tf, "BTNH,BSNH->BNTS", q, k), tf.scalar(scale));
        if (mask || causalOnly) {
          let combined = tf.onesLike(logits).cast("bool");
          if (mask) combined = tf.logicalAnd(combined, expand(tf.cast(mask, "bool"), 4));
          if (causalOnly) combined = tf.logicalAnd(combined, tf.expandDims(causalMask(tf, logits.shape[2]!, logits.shape[3]!), 0));
          logits = tf.where(combined, logits, tf.fill(logits.shape, LARGE_NEGATIVE));
        }
        return [einsum(tf, "BNTS,BSNH->BTNH", tf.softmax(logits, -1), v), null];
      }
      const m = causalOnly ? causalMask(tf, q.shape[1]!, v.shape[1]!) : mask;
      const scaled = tf.mul(q, tf.scalar(scale));
      const logits = kerasEinsum(tf, this.dotEquation, k, scaled, k.shape, scaled.shape);
      const scores = this.maskedSoftmax(logits, m ? expand(m, logits.rank) : null, logits.rank - axes.length);
      return [kerasEinsum(tf, this.combineEquation, scores, v, scores.shape, v.shape), scores];
    }

    /** The Softmax layer over the last `rank - first` axes, masked as keras/src/layers/activations/softmax.py masks. */
    private maskedSoftmax(x: Tensor, mask: Tensor | null, first: number): Tensor {
      const masked = mask ? tf.where(tf.broadcastTo(mask, x.shape), x, tf.fill(x.shape, SOFTMAX_MASKED)) : x;
      let out: Tensor;
      if (first === x.rank - 1) out = tf.softmax(masked, -1);
      else {
        // exp(x - logsumexp(x, axes, keepdims)), logsumexp as tf.math.reduce_logsumexp computes it.
        const axes = Array.from({ length: x.rank - first }, (_, i) => first + i);
        const max = tf.max(masked, axes, true);
        const lse = tf.add(tf.log(tf.sum(tf.exp(tf.sub(masked, max)), axes, true)), max);
        out = tf.exp(tf.sub(masked, lse));
      }
      return mask ? tf.where(tf.broadcastTo(mask, x.shape), out, tf.zerosLike(out)) : out;
    }

    override getConfig() {
      return {
        ...super.getConfig(),
        numHeads: this.numHeads,
        keyDim: this.keyDim,
        valueDim: this.valueDim,
        dropout: this.dropout,
        useBias: this.useBias,
        useGate: this.useGate,
        outputShape: this.projectedShape,
        attentionAxes: this.attentionAxes,
        slidingWindow: this.slidingWindow,
        useCausalMask: this.useCausalMask,
        returnAttentionScores: this.returnAttentionScores,
        ignoreMask: this.ignoreMask,
        callInputs: this.callInputs,
      };
    }
  };
}

import { TFBRIDGE_ADDITIVE_ATTENTION, TFBRIDGE_ATTENTION } from "./names.js";
import { attentionMasks, byRole, causalMask, shapeList } from "./attention-masks.js";
import { ignoresMask } from "./stock-mask.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type Layer = InstanceType<TfModule["layers"]["Layer"]>;
type Shape = (number | null)[];
type Variable = { read(): Tensor };

/** The TF.js config of {@link TfbridgeAttentionClass} (Keras 3's, camel-cased, plus the call's flags). */
export interface TfbridgeAttentionArgs {
  name?: string;
  useScale?: boolean;
  /** `Attention` only: `dot` or `concat`. */
  scoreMode?: "dot" | "concat";
  /** The call's `use_causal_mask` (a config field here: TF.js replays a layer's call with no flags). */
  useCausalMask?: boolean;
  /** The call's `return_attention_scores`: the layer then has two outputs, as in Keras. */
  returnAttentionScores?: boolean;
  /** Per role (query, value, key), which of the layer's inputs it is; default: the inputs in that order. */
  callInputs?: number[] | null;
}

export interface TfbridgeAttentionClass {
  new (args: TfbridgeAttentionArgs): Layer;
  readonly className: string;
}

/** attention.py `_apply_scores`: masked scores lowered by 1e9 (float32), as Keras subtracts it. */
const MASKED_BY = 1e9;

/**
 * Keras 3's Attention (Luong: `dot`, or `concat`) and AdditiveAttention (Bahdanau) as TF.js classes
 * (TF.js 4.22 has neither), computing keras/src/layers/attention/attention.py and
 * additive_attention.py's ops in their order on the TensorFlow backend:
 *
 * - scores: `dot` — `matmul(query, swapaxes(key))`, times `scale`; `concat` —
 *   `concat_score_weight * sum(tanh(scale * (q + k)), -1)`; additive — `sum(scale * tanh(q + k), -1)`;
 * - the value's mask (and the causal mask) as `where(not mask, scores - 1e9, scores)`, softmax over
 *   the value steps, `matmul(weights, value)`, zero where the query is masked.
 *
 * Inputs `[query, value, key?]` (the key defaults to the value), or the distinct tensors among them
 * with `callInputs` saying which is which; the masks come as `kwargs.mask`, one per input; the
 * output carries the query's mask. Weights in Keras's order: Attention `scale` [] (if
 * `use_scale`), `concat_score_weight` [] (if `concat`); AdditiveAttention `scale` [dim] (if `use_scale`).
 */
function define(tf: TfModule, className: string, additive: boolean): TfbridgeAttentionClass {
  const Base = tf.layers.Layer as unknown as new (args?: object) => Layer;
  return class extends Base {
    static readonly className = className;
    readonly useScale: boolean;
    readonly scoreMode: "dot" | "concat";
    readonly useCausalMask: boolean;
    readonly returnAttentionScores: boolean;
    readonly ignoreMask: boolean;
    readonly callInputs: number[] | null;
    private scale: Variable | null = null;
    private concatScoreWeight: Variable | null = null;

    constructor(args: TfbridgeAttentionArgs) {
      super(args);
      this.useScale = args.useScale ?? additive;
      this.scoreMode = args.scoreMode ?? "dot";
      this.useCausalMask = args.useCausalMask ?? false;
      this.returnAttentionScores = args.returnAttentionScores ?? false;
      this.ignoreMask = ignoresMask(args);
      this.callInputs = args.callInputs ?? null;
      this.supportsMasking = true;
    }

    override build(inputShape: Shape | Shape[]): void {
      const dim = byRole(shapeList(inputShape), this.callInputs)[0]!.at(-1)!;
      const zeros = tf.initializers.zeros();
      if (this.useScale) this.scale = this.addWeight("scale", additive ? [dim] : [], "float32", zeros) as unknown as Variable;
      if (!additive && this.scoreMode === "concat") this.concatScoreWeight = this.addWeight("concat_score_weight", [], "float32", zeros) as unknown as Variable;
      this.built = true;
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      const [query, value, key = value] = byRole(shapeList(inputShape), this.callInputs);
      const output = [...query!.slice(0, -1), value!.at(-1)!];
      return this.returnAttentionScores ? [output, [...query!.slice(0, -1), key!.at(-2)!]] : output;
    }

    override computeMask(_inputs: Tensor | Tensor[], mask?: Tensor | Tensor[]): Tensor | Tensor[] {
      const queryMask = this.ignoreMask ? null : Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
      return (this.returnAttentionScores ? [queryMask, null] : queryMask) as unknown as Tensor;
    }

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
      return tf.tidy(() => {
        const xs = Array.isArray(inputs) ? inputs : [inputs];
        const [query, value, key = value] = byRole(xs, this.callInputs);
        const [queryMask, valueMask] = this.ignoreMask ? [null, null] : byRole(attentionMasks(kwargs, xs.length), this.callInputs);
        let scores = this.scores(query!, key!);
        let scoresMask: Tensor | null = valueMask ? tf.cast(valueMask, "bool") : null;
        if (this.useCausalMask) {
          const causal = causalMask(tf, scores.shape.at(-2)!, scores.shape.at(-1)!);
          scoresMask = scoresMask ? tf.logicalAnd(tf.expandDims(scoresMask, -2), causal) : causal;
        }
        if (scoresMask) {
          let padding = tf.logicalNot(scoresMask);
          if (padding.rank === 2) padding = tf.expandDims(padding, -2);
          scores = tf.where(tf.broadcastTo(padding, scores.shape), tf.sub(scores, tf.scalar(MASKED_BY)), scores);
        }
        const weights = tf.softmax(scores, -1);
        let output = tf.matMul(weights, value!);
        if (queryMask) output = tf.where(tf.broadcastTo(tf.expandDims(tf.cast(queryMask, "bool"), -1), output.shape), output, tf.zerosLike(output));
        return this.returnAttentionScores ? [output, weights] : output;
      });
    }

    /** `_calculate_scores`, as the class computes it. */
    private scores(query: Tensor, key: Tensor): Tensor {
      if (!additive && this.scoreMode === "dot") {
        const scores = tf.matMul(query, tf.transpose(key, swapLast(key.rank)));
        return this.scale ? tf.mul(scores, this.scale.read()) : scores;
      }
      const sum = tf.add(tf.expandDims(query, -2), tf.expandDims(key, -3));
      if (additive) return tf.sum(this.scale ? tf.mul(this.scale.read(), tf.tanh(sum)) : tf.tanh(sum), -1);
      const tanh = tf.tanh(this.scale ? tf.mul(this.scale.read(), sum) : sum);
      return tf.mul(this.concatScoreWeight!.read(), tf.sum(tanh, -1));
    }

    override getConfig() {
      return {
        ...super.getConfig(),
        useScale: this.useScale,
        ...(additive ? {} : { scoreMode: this.scoreMode }),
        useCausalMask: this.useCausalMask,
        returnAttentionScores: this.returnAttentionScores,
        ignoreMask: this.ignoreMask,
        callInputs: this.callInputs,
      };
    }
  };
}

/** The permutation `ops.swapaxes(x, -2, -1)` applies. */
function swapLast(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  return perm;
}

/** Keras 3's Attention layer (see {@link define}). */
export function defineAttention(tf: TfModule): TfbridgeAttentionClass {
  return define(tf, TFBRIDGE_ATTENTION, false);
}

/** Keras 3's AdditiveAttention layer (see {@link define}). */
export function defineAdditiveAttention(tf: TfModule): TfbridgeAttentionClass {
  return define(tf, TFBRIDGE_ADDITIVE_ATTENTION, true);
}

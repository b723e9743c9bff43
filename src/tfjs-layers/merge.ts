import { MASKED_VALUE_MERGES, MERGE_CLASSES, TFBRIDGE_MERGE_PREFIX } from "./names.js";
import { ignoresMask, mergeMasks } from "./stock-mask.js";
import type { Kwargs, Tensor, TfModule } from "./tfjs-types.js";

type Layer = ReturnType<TfModule["layers"]["add"]>;
type Masks = (Tensor | null | undefined)[] | null | undefined;

export interface TfbridgeMergeClass {
  new (args?: object): Layer;
  readonly className: string;
}


/**
 * Keras 3's merge layers as TF.js classes: TF.js's own (same config, no weights) with Keras 3's
 * mask rules (keras/src/layers/merging). TF.js 4.22's Merge.computeMask returns a mask with an extra
 * leading axis and ignores the last input's mask; Keras ORs the inputs' masks (none if any input
 * has none; Concatenate counts an unmasked input as all true). Under masks Keras's Maximum (and Minimum) also
 * replaces masked elements by the other input's before comparing, and Multiply multiplies masked
 * elements as 1 and zeroes what every input masks; TF.js ignores the masks. TF.js has no Subtract.
 */
export function defineMerges(tf: TfModule): Record<(typeof MERGE_CLASSES)[number], TfbridgeMergeClass> {
  const registry = tf.serialization.SerializationMap.getMap().classNameMap;
  const expand = (mask: Tensor, x: Tensor) => tf.broadcastTo(tf.expandDims(tf.cast(mask, "bool"), -1), x.shape);

  const define = (cls: (typeof MERGE_CLASSES)[number]): TfbridgeMergeClass => {
    // TF.js has no Subtract: it is Add's class (shapes, config) with Keras's ops.subtract.
    const Base = registry[cls === "Subtract" ? "Add" : cls]![0] as unknown as new (args?: object) => Layer;
    return class extends Base {
      static readonly className = `${TFBRIDGE_MERGE_PREFIX}${cls}`;
      readonly ignoreMask: boolean;

      constructor(args?: object) {
        super(args);
        this.ignoreMask = ignoresMask(args);
      }

      override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
        const xs = inputs as Tensor[];
        const masks = mergeMasks(kwargs, this.ignoreMask, xs.length);
        if (cls === "Subtract") {
          if (xs.length !== 2) throw new Error(`${TFBRIDGE_MERGE_PREFIX}Subtract takes exactly 2 inputs, got ${xs.length}`);
          return tf.sub(xs[0]!, xs[1]!);
        }
        if (!masks || masks.every((m) => !m) || !MASKED_VALUE_MERGES.includes(cls)) return super.call(inputs, kwargs);
        return tf.tidy(() => (cls === "Multiply" ? multiply(xs, masks) : extremum(cls === "Maximum" ? tf.maximum : tf.minimum, xs, masks)));
      }

      override getConfig() {
        return { ...super.getConfig(), ignoreMask: this.ignoreMask };
      }

      override computeMask(inputs: Tensor | Tensor[], mask?: Tensor | Tensor[]): Tensor {
        const xs = inputs as Tensor[];
        const masks = (mask ?? []) as Masks;
        if (!masks || masks.length === 0 || masks.every((m) => !m)) return null as unknown as Tensor; // TF.js types have no null; its engine reads it as "no mask"
        if (cls !== "Concatenate" && masks.some((m) => !m)) return null as unknown as Tensor;
        return tf.tidy(() => {
          if (cls === "Concatenate") {
            const axis = (this as unknown as { axis: number }).axis;
            const full = xs.map((x, i) => {
              const m = masks[i];
              if (!m) return tf.cast(tf.onesLike(x), "bool");
              return m.rank < x.rank ? tf.logicalOr(tf.expandDims(tf.cast(m, "bool"), -1), tf.cast(tf.zerosLike(x), "bool")) : tf.cast(m, "bool");
            });
            return tf.any(tf.concat(full, axis), -1);
          }
          return masks.slice(1).reduce<Tensor>((acc, m) => tf.logicalOr(acc, tf.cast(m!, "bool")), tf.cast(masks[0]!, "bool"));
        });
      }
    };
  };

  /** keras/src/layers/merging/base_merge.py `_apply_merge_op_and_or_mask` with maximum or minimum, step by step. */
  function extremum(op: (a: Tensor, b: Tensor) => Tensor, xs: Tensor[], masks: (Tensor | null | undefined)[]): Tensor {
    let output = xs[0]!;
    let outputMask: Tensor | null = masks[0] ? expand(masks[0], output) : null;
    for (let i = 1; i < xs.length; i++) {
      let x = xs[i]!;
      const mask = masks[i] ? expand(masks[i]!, x) : null;
      if (mask) x = tf.where(mask, x, output);
      if (outputMask) output = tf.where(outputMask, output, x);
      outputMask = mask && outputMask ? tf.logicalOr(outputMask, mask) : null;
      output = op(output, x);
    }
    return output;
  }

  /** keras/src/layers/merging/multiply.py `_merge_function`, step by step. */
  function multiply(xs: Tensor[], masks: (Tensor | null | undefined)[]): Tensor {
    const all = masks.every((m) => m);
    let output: Tensor | null = null;
    let outputMask: Tensor | null = null;
    xs.forEach((x0, i) => {
      let x = x0;
      if (masks[i]) {
        const mask = expand(masks[i]!, x);
        x = tf.where(mask, x, tf.onesLike(x));
        if (all) outputMask = outputMask ? tf.logicalOr(outputMask, mask) : mask;
      }
      output = output ? tf.mul(output, x) : x;
    });
    return all ? tf.where(outputMask!, output!, tf.zerosLike(output!)) : output!;
  }

  return Object.fromEntries(MERGE_CLASSES.map((cls) => [cls, define(cls)])) as Record<(typeof MERGE_CLASSES)[number], TfbridgeMergeClass>;
}

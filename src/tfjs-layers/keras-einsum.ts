import type { Tensor, TfModule } from "./tfjs-types.js";

/** A tensor's shape as the symbolic model knows it: `null` for a dimension fixed only at run time. */
export type StaticShape = readonly (number | null)[];

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** keras/src/backend/tensorflow/numpy.py `_normalize_einsum_subscripts`: letters renamed a, b, c… in order of appearance. */
export function normalizeSubscripts(subscripts: string): string {
  const mapping = new Map<string, string>();
  let out = "";
  for (const c of subscripts) {
    if (LETTERS.includes(c)) {
      if (!mapping.has(c)) mapping.set(c, LETTERS[mapping.size]!);
      out += mapping.get(c);
    } else out += c;
  }
  return out;
}

/**
 * `tf.einsum(equation, x, y)`, or on a backend without an Einsum kernel (TF.js 4.22's WASM) the same
 * contraction as transposes, reshapes and one batched `matMul`, as TF's own Einsum kernel computes it
 * (batch labels, then the left operand's free labels, the contracted ones, the right's free labels).
 * Each label appears at most once per operand and every label of the output in an operand, as in the
 * equations Keras's attention layers use.
 */
export function einsum(tf: TfModule, equation: string, x: Tensor, y: Tensor): Tensor {
  if (tf.getKernel("Einsum", tf.getBackend())) return tf.einsum(equation, x, y);
  const [inputs, out] = equation.split("->") as [string, string];
  const [a, b] = inputs.split(",") as [string, string];
  const size = (label: string) => (a.includes(label) ? x.shape[a.indexOf(label)]! : y.shape[b.indexOf(label)]!);
  const batch = [...out].filter((l) => a.includes(l) && b.includes(l));
  const freeA = [...a].filter((l) => out.includes(l) && !b.includes(l));
  const freeB = [...b].filter((l) => out.includes(l) && !a.includes(l));
  const contracted = [...a].filter((l) => b.includes(l) && !out.includes(l));
  if ([...a, ...b].some((l) => !out.includes(l) && !contracted.includes(l))) throw new Error(`einsum ${equation}: summing a label of one operand only is not supported`);
  const product = (labels: string[]) => labels.reduce((n, l) => n * size(l), 1);
  const left = tf.reshape(tf.transpose(x, [...batch, ...freeA, ...contracted].map((l) => a.indexOf(l))), [product(batch), product(freeA), product(contracted)]);
  const right = tf.reshape(tf.transpose(y, [...batch, ...contracted, ...freeB].map((l) => b.indexOf(l))), [product(batch), product(contracted), product(freeB)]);
  const order = [...batch, ...freeA, ...freeB];
  const result = tf.reshape(tf.matMul(left, right), order.map(size));
  return tf.transpose(result, [...out].map((l) => order.indexOf(l)));
}

/** Equations Keras computes with matmul whatever the shapes. */
const ALWAYS = new Set([
  "a,b->ab", "ab,b->a", "ab,bc->ac", "ab,cb->ac", "abc,cd->abd", "abc,dc->abd", "abcd,abde->abce", "abcd,abed->abce",
  "abcd,acbe->adbe", "abcd,adbe->acbe", "abcd,aecd->acbe", "abcd,aecd->aceb",
]);

/**
 * Keras 3's `ops.einsum` on the TensorFlow backend (keras/src/backend/tensorflow/numpy.py `einsum`),
 * op for op: the equations it knows are computed as transposes, reshapes and one `matmul` (its
 * "custom ops"), the others by `tf.einsum`. Which way Keras goes depends on the shapes its graph
 * knows (`xShape`, `yShape`: `null` where the symbolic shape has none), not on the run-time shapes;
 * the two ways can round differently, so the twin decides as Keras's graph did.
 */
export function kerasEinsum(tf: TfModule, subscripts: string, x: Tensor, y: Tensor, xShape: StaticShape, yShape: StaticShape): Tensor {
  const eq = normalizeSubscripts(subscripts);
  const dims = (...ds: (number | null | undefined)[]) => (ds.some((d) => d === null || d === undefined) ? null : (ds as number[]));
  const [, b1, c1, d1, e1] = xShape;
  const [y0, y1, y2, y3] = yShape;
  // Per equation, the dimensions Keras's custom op needs known (c1 || c2: either operand's).
  const needs: Record<string, () => number[] | null> = {
    "abc,cde->abde": () => dims(b1, c1 ?? y0, y1, y2),
    "abc,dce->abde": () => dims(b1, c1 ?? y1, y0, y2),
    "abc,dec->abde": () => dims(b1, c1 ?? y2, y0, y1),
    "abcd,cde->abe": () => dims(b1, c1 ?? y0, d1 ?? y1, y2),
    "abcd,ced->abe": () => dims(b1, c1 ?? y0, d1 ?? y2, y1),
    "abcd,ecd->abe": () => dims(b1, c1 ?? y1, d1 ?? y2, y0),
    "abcde,aebf->adbcf": () => dims(b1 ?? y2, c1, d1, e1 ?? y1, y3),
    "abcde,afce->acdbf": () => dims(b1, c1 ?? y2, d1, e1 ?? y3, y1),
  };
  const known = ALWAYS.has(eq) ? [] : needs[eq]?.();
  if (!known) return einsum(tf, eq, x, y);
  const t = (a: Tensor, perm: number[]) => tf.transpose(a, perm);
  const mm = (a: Tensor, b: Tensor) => tf.matMul(a, b);
  switch (eq) {
    case "a,b->ab":
      return mm(tf.expandDims(x, -1), tf.expandDims(y, 0));
    case "ab,b->a":
      return tf.squeeze(mm(x, tf.expandDims(y, -1)), [-1]);
    case "ab,bc->ac":
    case "abc,cd->abd":
    case "abcd,abde->abce":
      return mm(x, y);
    case "ab,cb->ac":
    case "abc,dc->abd":
      return mm(x, t(y, [1, 0]));
    case "abc,cde->abde": {
      const [b, c, d, e] = known;
      return tf.reshape(mm(x, tf.reshape(y, [c!, -1])), [-1, b!, d!, e!]);
    }
    case "abc,dce->abde": {
      const [b, c, d, e] = known;
      return tf.reshape(mm(x, tf.reshape(t(y, [1, 0, 2]), [c!, -1])), [-1, b!, d!, e!]);
    }
    case "abc,dec->abde": {
      const [b, c, d, e] = known;
      return tf.reshape(mm(x, tf.reshape(t(y, [2, 0, 1]), [c!, -1])), [-1, b!, d!, e!]);
    }
    case "abcd,abed->abce":
      return mm(x, t(y, [0, 1, 3, 2]));
    case "abcd,acbe->adbe":
      return t(mm(t(x, [0, 1, 3, 2]), t(y, [0, 2, 1, 3])), [0, 2, 1, 3]);
    case "abcd,adbe->acbe":
      return t(mm(x, t(y, [0, 2, 1, 3])), [0, 2, 1, 3]);
    case "abcd,aecd->acbe":
      return mm(t(x, [0, 2, 1, 3]), t(y, [0, 2, 3, 1]));
    case "abcd,aecd->aceb":
      return t(mm(t(x, [0, 2, 1, 3]), t(y, [0, 2, 3, 1])), [0, 1, 3, 2]);
    case "abcd,cde->abe": {
      const [b, c, d, e] = known;
      return mm(tf.reshape(x, [-1, b!, c! * d!]), tf.reshape(y, [-1, e!]));
    }
    case "abcd,ced->abe": {
      const [b, c, d, e] = known;
      return mm(tf.reshape(x, [-1, b!, c! * d!]), tf.reshape(t(y, [0, 2, 1]), [-1, e!]));
    }
    case "abcd,ecd->abe": {
      const [b, c, d, e] = known;
      return mm(tf.reshape(x, [-1, b!, c! * d!]), tf.reshape(t(y, [1, 2, 0]), [-1, e!]));
    }
    case "abcde,aebf->adbcf": {
      const [b, c, d, , f] = known;
      const result = mm(tf.reshape(x, [-1, b!, c! * d!, known[3]!]), t(y, [0, 2, 1, 3]));
      return t(tf.reshape(result, [-1, b!, c!, d!, f!]), [0, 3, 1, 2, 4]);
    }
    case "abcde,afce->acdbf": {
      const [b, c, d, e, f] = known;
      const result = mm(tf.reshape(t(x, [0, 2, 3, 1, 4]), [-1, c!, d! * b!, e!]), t(y, [0, 2, 3, 1]));
      return tf.reshape(result, [-1, c!, d!, b!, f!]);
    }
    default:
      throw new Error(`kerasEinsum: no custom op for ${eq}`);
  }
}

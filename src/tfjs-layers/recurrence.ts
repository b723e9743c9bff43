import type { Tensor, TfModule } from "./tfjs-types.js";

/** One step of a recurrent cell: the step's input and the states in, the output and new states out. */
export type StepFunction = (input: Tensor, states: Tensor[]) => [Tensor, Tensor[]];

/** How {@link kerasRecurrence} walks the sequence. */
export interface KerasRecurrenceOptions {
  goBackwards: boolean;
  returnSequences: boolean;
  /** Keras's `zero_output_for_mask`: masked steps output zeros instead of the previous output. */
  zeroOutputForMask: boolean;
}

/** What {@link kerasRecurrence} returns; the caller picks by returnSequences / returnState. */
export interface KerasRecurrenceResult {
  lastOutput: Tensor;
  /** `[batch, time, units]`, only with `returnSequences`. */
  outputs: Tensor | null;
  states: Tensor[];
}

/**
 * The time loop of keras/src/backend/tensorflow/rnn.py `rnn()`, which TF.js's own `rnn()` follows
 * except where masks are concerned. Keras, at a masked step, keeps the previous *output* (zeros
 * before the first step, or always zeros with `zero_output_for_mask`, which Keras's Bidirectional
 * forces on when it returns sequences) and the previous states, choosing with `tf.where`. TF.js
 * keeps `states[0]` as the output (the initial state, not zeros, before the first step) and blends
 * with `out·m + prev·(1 − m)`. Those differ when an initial state meets a leading masked step, and
 * whenever `zero_output_for_mask` is on; so this loop is Keras's, op for op where values are chosen.
 *
 * @param inputs `[batch, time, features]`.
 * @param mask `[batch, time]`, any dtype (cast to bool as Keras does), or null.
 */
export function kerasRecurrence(
  tf: TfModule,
  step: StepFunction,
  inputs: Tensor,
  initialStates: Tensor[],
  mask: Tensor | null,
  { goBackwards, returnSequences, zeroOutputForMask }: KerasRecurrenceOptions,
): KerasRecurrenceResult {
  // Runs inside the caller's tf.tidy; each step tidies its own intermediates.
  let timeMajor = tf.transpose(inputs, [1, 0, ...inputs.shape.slice(2).map((_, i) => i + 2)]);
  if (goBackwards) timeMajor = tf.reverse(timeMajor, 0);
  const stepInputs = tf.unstack(timeMajor);
  let stepMasks: Tensor[] | null = null;
  if (mask != null) {
    // [batch, time] → [time, batch, 1]: each step's mask broadcasts over the units in tf.where.
    // Reversed as int32, cast to bool after: TF.js 4.22's WASM Reverse kernel reads bool tensors as
    // 4-byte elements (garbage values, then "memory access out of bounds").
    let m = tf.transpose(tf.expandDims(tf.cast(tf.cast(mask, "bool"), "int32"), -1), [1, 0, 2]);
    if (goBackwards) m = tf.reverse(m, 0);
    stepMasks = tf.unstack(tf.cast(m, "bool"));
  }
  let states = initialStates;
  let previous: Tensor | null = null;
  const outputs: Tensor[] = [];
  for (let t = 0; t < stepInputs.length; t++) {
    const [output, ...newStates]: Tensor[] = tf.tidy(() => {
      const [out, next] = step(stepInputs[t]!, states);
      if (stepMasks == null) return [out, ...next];
      const m = stepMasks[t]!;
      const kept = zeroOutputForMask || previous == null ? tf.zerosLike(out) : previous;
      return [tf.where(m, out, kept), ...next.map((s, i) => tf.where(m, s, states[i]!))];
    });
    previous = output!;
    states = newStates;
    if (returnSequences) outputs.push(previous);
  }
  if (previous == null) throw new Error("kerasRecurrence: the input has no timesteps");
  return { lastOutput: previous, outputs: returnSequences ? tf.stack(outputs, 1) : null, states };
}

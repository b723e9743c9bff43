import type { StepFunction } from "./recurrence.js";
import type { Tensor, TfModule } from "./tfjs-types.js";

type Variable = { read(): Tensor };
type Activation = { apply(x: Tensor): Tensor };

/** What the steps read of a TF.js RNN cell (LSTMCell, GRUCell, SimpleRNNCell keep these fields). */
export interface CellFields {
  units: number;
  kernel: Variable;
  recurrentKernel: Variable;
  bias: Variable | null;
  useBias: boolean;
  activation: Activation;
  recurrentActivation?: Activation;
}

/**
 * The matmul the steps use: TF.js's plain `matMul` on tfjs-node (TensorFlow's MatMul; `fused.matMul`,
 * TF.js's own cells' choice, reaches a slower kernel there with the same bits), and `fused.matMul`
 * elsewhere (the WASM backend's plain BatchMatMul is about ten times slower than its fused XNNPACK one).
 */
function matMulFor(tf: TfModule): (a: Tensor, b: Tensor) => Tensor {
  return tf.getBackend() === "tensorflow" ? (a, b) => tf.matMul(a, b) : (a, b) => tf.fused.matMul({ a, b });
}

/**
 * keras/src/layers/rnn/lstm.py LSTMCell.call, implementation 2, op for op: z = x·W + h·U (+ b), split in
 * four, i = σ(z0), f = σ(z1), c = f·c + i·act(z2), o = σ(z3), h = o·act(c). TF.js's LSTMCell computes the
 * same with `fused.matMul` everywhere (see {@link matMulFor}).
 */
export function lstmStep(tf: TfModule, cell: CellFields): StepFunction {
  const matMul = matMulFor(tf);
  const sigma = cell.recurrentActivation!;
  return (x, [h, c]) => {
    let z = tf.add(matMul(x, cell.kernel.read()), matMul(h!, cell.recurrentKernel.read()));
    if (cell.useBias && cell.bias) z = tf.add(z, cell.bias.read());
    const [z0, z1, z2, z3] = tf.split(z, 4, 1);
    const i = sigma.apply(z0!);
    const f = sigma.apply(z1!);
    const carry = tf.add(tf.mul(f, c!), tf.mul(i, cell.activation.apply(z2!)));
    const o = sigma.apply(z3!);
    const out = tf.mul(o, cell.activation.apply(carry));
    return [out, [out, carry]];
  };
}

/**
 * keras/src/layers/rnn/gru.py GRUCell.call, implementation 2, op for op. `reset_after` (Keras 3's
 * default): bias `[2, 3u]`, the recurrent projection h·U (+ recurrent bias) split in three and the reset
 * gate applied after it. Without: bias `[3u]` on the input side only, h·U[:, :2u] for the gates, and
 * (r·h)·U[:, 2u:] for the candidate. Made inside the layer call's `tf.tidy`: the split biases and the
 * constant 1 are made once per call, not once per step.
 */
export function gruStep(tf: TfModule, cell: CellFields, resetAfter: boolean): StepFunction {
  const matMul = matMulFor(tf);
  const u = cell.units;
  const sigma = cell.recurrentActivation!;
  const [inputBias, recurrentBias] = ((): [Tensor | null, Tensor | null] => {
    if (!cell.useBias || !cell.bias) return [null, null];
    if (!resetAfter) return [cell.bias.read(), null];
    const [input, recurrent] = tf.split(cell.bias.read(), 2, 0).map((b) => tf.squeeze(b, [0]));
    return [input!, recurrent!];
  })();
  const one = tf.scalar(1, "float32");
  // Without reset_after, U's gate columns and candidate columns multiply separately (Keras slices U per step).
  const [gateKernel, candidateKernel] = resetAfter ? [null, null] : [0, 2].map((from) => tf.slice(cell.recurrentKernel.read(), [0, from * u], [-1, from === 0 ? 2 * u : u]));
  const mix = (z: Tensor, h: Tensor, candidate: Tensor) => tf.add(tf.mul(z, h), tf.mul(tf.sub(one, z), candidate));
  return (x, [h]) => {
    const product = matMul(x, cell.kernel.read());
    const matrixX = inputBias ? tf.add(product, inputBias) : product;
    const [xZ, xR, xH] = tf.split(matrixX, 3, -1);
    let out: Tensor;
    if (resetAfter) {
      let inner = matMul(h!, cell.recurrentKernel.read());
      if (recurrentBias) inner = tf.add(inner, recurrentBias);
      const [recurrentZ, recurrentR, recurrentH] = tf.split(inner, 3, -1);
      const z = sigma.apply(tf.add(xZ!, recurrentZ!));
      const r = sigma.apply(tf.add(xR!, recurrentR!));
      out = mix(z, h!, cell.activation.apply(tf.add(xH!, tf.mul(r, recurrentH!))));
    } else {
      const inner = matMul(h!, gateKernel!);
      const [recurrentZ, recurrentR] = tf.split(inner, 2, -1);
      const z = sigma.apply(tf.add(xZ!, recurrentZ!));
      const r = sigma.apply(tf.add(xR!, recurrentR!));
      const recurrentH = matMul(tf.mul(r, h!), candidateKernel!);
      out = mix(z, h!, cell.activation.apply(tf.add(xH!, recurrentH)));
    }
    return [out, [out]];
  };
}

/** keras/src/layers/rnn/simple_rnn.py SimpleRNNCell.call: act(x·W (+ b) + h·U). */
export function simpleRnnStep(tf: TfModule, cell: CellFields): StepFunction {
  const matMul = matMulFor(tf);
  return (x, [previous]) => {
    const product = matMul(x, cell.kernel.read());
    const h = cell.useBias && cell.bias ? tf.add(product, cell.bias.read()) : product;
    const out = cell.activation.apply(tf.add(h, matMul(previous!, cell.recurrentKernel.read())));
    return [out, [out]];
  };
}

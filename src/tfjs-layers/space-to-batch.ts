import type { Tensor, TfModule } from "./tfjs-types.js";

/**
 * A dilated 2-D or 3-D convolution computed as TensorFlow computes it for Keras 3: `tf.nn.convolution`,
 * `tf.nn.depthwise_conv2d` and `tf.nn.separable_conv2d` with a dilation rate above 1 run
 * `with_space_to_batch` (tensorflow/python/ops/nn_ops.py): SpaceToBatchND by the rate, the undilated
 * op with `valid` padding, BatchToSpaceND. TF.js instead passes the dilation to the op itself, which
 * TF's own CPU DepthwiseConv2dNative refuses ("Current kernel implementation does not support
 * dilations": tfjs-node without oneDNN, e.g. with TF_ENABLE_ONEDNN_OPTS=0 or off x86) and which
 * is another graph than the Session's (TF's CPU Conv3D refuses any dilation). `op` gets the rearranged
 * input and must convolve with stride 1.
 */
export function withSpaceToBatch(tf: TfModule, x: Tensor, kernelSize: readonly number[], rate: readonly number[], padding: string, op: (x: Tensor) => Tensor): Tensor {
  const paddings: [number, number][] = [];
  const crops: [number, number][] = [];
  const spatial = x.rank - 2;
  for (let i = 0; i < spatial; i++) {
    // _with_space_to_batch_base_paddings: `same` pads the dilated kernel's extent, the extra at the end.
    const extent = padding === "same" ? (kernelSize[i]! - 1) * rate[i]! : 0;
    const start = Math.floor(extent / 2);
    const end = extent - start;
    // required_space_to_batch_paddings: pad the end up to a multiple of the rate, crop that off after.
    const full = x.shape[i + 1]! + start + end;
    const extra = (rate[i]! - (full % rate[i]!)) % rate[i]!;
    paddings.push([start, end + extra]);
    crops.push([0, extra]);
  }
  const blocks = rate.slice(0, spatial);
  return tf.tidy(() => tf.batchToSpaceND(op(tf.spaceToBatchND(x, blocks, paddings)), blocks, crops));
}

/** Whether a layer's dilation rate makes TensorFlow take the space-to-batch route. */
export const dilated = (rate: readonly number[] | number): boolean => (Array.isArray(rate) ? rate.some((r) => r !== 1) : rate !== 1);

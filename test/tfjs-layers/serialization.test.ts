import { describe, expect, it } from "vitest";
import { KERAS3_HARD_SIGMOID, TFBRIDGE_CONV1D, TFBRIDGE_GRU, registerKerasLayers } from "../../src/tfjs-layers/index.js";
import { loadTfjs } from "../../src/tfjs/runtime.js";

type Tensor = import("@tensorflow/tfjs-node").Tensor;

// A Keras-2-style topology with snake_case keys, as a Keras 3 → TF.js translator would write it: our
// classes are found by class_name, their keys camel-cased by TF.js on the way in.
const TOPOLOGY = {
  class_name: "Sequential",
  config: {
    name: "seq",
    layers: [
      { class_name: "Embedding", config: { name: "emb", batch_input_shape: [null, 6], input_dim: 7, output_dim: 3, mask_zero: true } },
      {
        class_name: "Bidirectional",
        config: {
          name: "bi",
          merge_mode: "concat",
          layer: {
            class_name: TFBRIDGE_GRU,
            config: {
              name: "gru",
              units: 2,
              activation: "tanh",
              recurrent_activation: KERAS3_HARD_SIGMOID,
              use_bias: true,
              reset_after: true,
              return_sequences: true,
              zero_output_for_mask: true,
            },
          },
        },
      },
      {
        class_name: TFBRIDGE_CONV1D,
        config: { name: "conv", filters: 2, kernel_size: [2], strides: [1], dilation_rate: [2], padding: "causal", activation: "linear", use_bias: true },
      },
    ],
  },
};

describe("our classes inside tf.models.modelFromJSON", () => {
  it("deserialize from snake_case JSON with every Keras setting, Bidirectional included", async () => {
    const tf = await loadTfjs();
    registerKerasLayers(tf);
    const model = await tf.models.modelFromJSON(structuredClone(TOPOLOGY) as never);
    const [, bi, conv] = model.layers as unknown as [unknown, { forwardLayer: any; backwardLayer: any }, any];
    expect(bi.forwardLayer.getClassName()).toBe(TFBRIDGE_GRU);
    expect(bi.backwardLayer.getClassName()).toBe(TFBRIDGE_GRU);
    expect(bi.backwardLayer.goBackwards).toBe(true); // TF.js's Bidirectional rebuilds it from the forward config
    for (const g of [bi.forwardLayer, bi.backwardLayer]) {
      expect(g.zeroOutputForMask).toBe(true);
      expect(g.cell.resetAfter).toBe(true);
      expect(g.cell.recurrentActivation.getClassName()).toBe(KERAS3_HARD_SIGMOID);
      expect(g.cell.bias.shape).toEqual([2, 6]);
    }
    expect(conv.getConfig().padding).toBe("causal");
    expect(model.outputs[0]!.shape).toEqual([null, 6, 2]);
    expect(model.getWeights().map((w: Tensor) => w.shape)).toEqual([[7, 3], [3, 6], [2, 6], [2, 6], [3, 6], [2, 6], [2, 6], [2, 4, 2], [2]]);

    // The config it serializes back deserializes to the same model.
    const again = await tf.models.modelFromJSON(model.toJSON(null, false) as never);
    again.setWeights(model.getWeights());
    const ids = tf.tensor2d([[1, 2, 3, 0, 0, 0], [4, 5, 6, 1, 2, 0]], [2, 6], "int32");
    const [a, b] = [model.predict(ids) as Tensor, again.predict(ids) as Tensor];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    // With zero_output_for_mask, masked steps of the forward half are zero (Keras's Bidirectional rule).
    const upToBi = tf.model({ inputs: model.inputs, outputs: model.layers[1]!.output });
    const biOut = upToBi.predict(ids) as Tensor;
    const masked = tf.slice(biOut, [0, 3, 0], [1, 3, 4]);
    expect(Array.from(await masked.data())).toEqual(new Array(12).fill(0));
    const valid = tf.slice(biOut, [0, 0, 0], [1, 3, 4]);
    expect(Array.from(await valid.data())).not.toContain(0);
    tf.dispose([ids, a, b, biOut, masked, valid]);
    model.dispose();
    again.dispose();
  });
});

describe("our layers inside a model", () => {
  it("release every tensor they make (masked Bidirectional GRU, initial-state LSTM, causal Conv1D)", async () => {
    const tf = await loadTfjs();
    const { TfbridgeGRU, TfbridgeLSTM, TfbridgeConv1D } = registerKerasLayers(tf);
    const ids = tf.input({ batchShape: [2, 5], dtype: "int32" });
    const h0 = tf.input({ batchShape: [2, 3] });
    const c0 = tf.input({ batchShape: [2, 3] });
    const emb = tf.layers.embedding({ inputDim: 6, outputDim: 4, maskZero: true }).apply(ids) as never;
    const bi = tf.layers.bidirectional({ layer: new TfbridgeGRU({ units: 3, returnSequences: true, zeroOutputForMask: true }) as never }).apply(emb) as never;
    const conv = new TfbridgeConv1D({ filters: 4, kernelSize: 3, dilationRate: 2, padding: "causal" }).apply(bi) as never;
    const out = new TfbridgeLSTM({ units: 3 }).apply([conv, h0, c0]) as never;
    const model = tf.model({ inputs: [ids, h0, c0], outputs: out });
    const feeds = [tf.tensor2d([[1, 2, 0, 0, 0], [3, 4, 5, 1, 0]], [2, 5], "int32"), tf.ones([2, 3]), tf.zeros([2, 3])];
    tf.dispose(model.predict(feeds) as Tensor); // warm-up: kernels, cached scalars
    const before = tf.memory().numTensors;
    const y = model.predict(feeds) as Tensor;
    expect(y.shape).toEqual([2, 3]);
    tf.dispose(y);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(feeds);
    model.dispose();
  });
});

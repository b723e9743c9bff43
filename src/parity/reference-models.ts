import type { KerasModelConfig } from "../models/config.js";
import { input, model, sequential } from "../models/builder.js";
import { layers } from "../models/layers.js";

/**
 * The named reference models of the parity sweep: the shapes real users bring. Each is described
 * with tfbridge's builder, so it runs without a file; `tfbridge parity model FILE` does the same
 * for a saved one.
 */
export const REFERENCE_MODELS: Readonly<Record<string, () => KerasModelConfig>> = {
  "stacked-lstm": () =>
    sequential({
      name: "stacked_lstm",
      inputShape: [12, 4],
      layers: [layers.lstm({ units: 16, returnSequences: true }), layers.lstm({ units: 8 }), layers.dense({ units: 3, activation: "softmax" })],
    }),
  "text-classifier": () =>
    sequential({
      name: "text_classifier",
      inputShape: [10],
      inputDtype: "int32",
      layers: [
        layers.embedding({ inputDim: 50, outputDim: 8, maskZero: true }),
        layers.bidirectional({ layer: layers.gru({ units: 6 }) }),
        layers.dense({ units: 1, activation: "sigmoid" }),
      ],
    }),
  "conv-lstm": () =>
    sequential({
      name: "conv_lstm",
      inputShape: [16, 3],
      layers: [
        layers.conv1d({ filters: 8, kernelSize: 3, padding: "causal", activation: "relu" }),
        layers.maxPooling1d({ poolSize: 2 }),
        layers.lstm({ units: 12 }),
        layers.dense({ units: 2 }),
      ],
    }),
  "encoder-decoder": () => {
    const encoderIn = input({ shape: [8, 5], name: "encoder_in" });
    const decoderIn = input({ shape: [6, 4], name: "decoder_in" });
    const [, h, c] = layers.lstm({ units: 10, returnState: true, name: "encoder" }).applyAll(encoderIn);
    const decoded = layers.lstm({ units: 10, returnSequences: true, name: "decoder" }).apply(decoderIn, { initialState: [h!, c!] });
    const out = layers.timeDistributed({ layer: layers.dense({ units: 4, activation: "softmax" }), name: "next_token" }).apply(decoded);
    return model({ inputs: [encoderIn, decoderIn], outputs: out, name: "encoder_decoder" });
  },
  "simplernn-layernorm": () =>
    sequential({
      name: "simplernn_layernorm",
      inputShape: [9, 3],
      layers: [layers.simpleRnn({ units: 8, returnSequences: true }), layers.layerNormalization(), layers.simpleRnn({ units: 4 }), layers.dense({ units: 1 })],
    }),
};

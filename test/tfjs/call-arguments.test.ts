import { describe, expect, it } from "vitest";
import type { KerasInboundNode, KerasLayerConfig, KerasModelConfig } from "../../src/models/config.js";
import { checkModelConfig } from "../../src/models/schema.js";
import { toTfjsTopology } from "../../src/tfjs/topology.js";

const t = (layer: string) => ({ class_name: "__keras_tensor__", config: { shape: [null, 5, 8], dtype: "float32", keras_history: [layer, 0, 0] } });
const input = (name: string): KerasLayerConfig => ({ class_name: "InputLayer", config: { name, batch_shape: [null, 5, 8] }, name, inbound_nodes: [] });
const mha = (nodes: KerasInboundNode[]): KerasLayerConfig => ({ class_name: "MultiHeadAttention", config: { name: "mha", num_heads: 2, key_dim: 4 }, name: "mha", inbound_nodes: nodes });
const functional = (layers: KerasLayerConfig[]): KerasModelConfig => ({
  class_name: "Functional",
  config: { name: "m", layers, input_layers: [["q", 0, 0], ["v", 0, 0], ["m", 0, 0]], output_layers: [["mha", 0, 0]] },
});
const entry = (model: KerasModelConfig) => toTfjsTopology(checkModelConfig(model)).config.layers.find((l) => l.name === "mha")!;

describe("the attention layers' call arguments in TF.js's topology", () => {
  it("tensors become the layer's inputs, each once, with call_inputs naming their roles; flags become its config", () => {
    const self = entry(functional([input("q"), input("v"), input("m"), mha([{ args: [t("q"), t("q")], kwargs: { use_causal_mask: true } }])]));
    // Self-attention: query, value and (Keras's default) key are one tensor; TF.js's executor frees a
    // tensor given twice to one layer too early, so it is given once.
    expect(self.inbound_nodes).toEqual([[["q", 0, 0, {}]]]);
    expect(self.config).toMatchObject({ call_inputs: [0, 0, 0], use_causal_mask: true, return_attention_scores: false });

    const cross = entry(functional([input("q"), input("v"), input("m"), mha([{ args: [t("q")], kwargs: { value: t("v"), attention_mask: t("m"), return_attention_scores: true } }])]));
    expect(cross.inbound_nodes[0]!.map(([name]) => name)).toEqual(["q", "v", "m"]);
    expect(cross.config).toMatchObject({ call_inputs: [0, 1, 1, 2], use_causal_mask: false, return_attention_scores: true });
  });

  it("a layer called twice with different flags becomes two TF.js layers, each call's flags its own config", () => {
    const twice = checkModelConfig(functional([input("q"), input("v"), input("m"), mha([{ args: [t("q"), t("v")], kwargs: {} }, { args: [t("v"), t("q")], kwargs: { use_causal_mask: true } }])]));
    const layers = toTfjsTopology(twice).config.layers;
    const first = layers.find((l) => l.name === "mha")!;
    const second = layers.find((l) => l.name === "mha-1")!;
    expect(first.inbound_nodes[0]!.map(([name]) => name)).toEqual(["q", "v"]);
    expect(first.config).toMatchObject({ use_causal_mask: false, call_inputs: [0, 1, 1] });
    expect(second.inbound_nodes[0]!.map(([name]) => name)).toEqual(["v", "q"]);
    expect(second.config).toMatchObject({ use_causal_mask: true, call_inputs: [0, 1, 1] });
  });
});

import { describe, expect, it } from "vitest";
import { ACTIVATIONS, LAYER_RULES } from "../../src/models/schema.js";
import { kerasCustomActivation, kerasCustomClass, registerKerasLayers } from "../../src/tfjs-layers/index.js";
import { loadTfjs } from "../../src/tfjs/runtime.js";

/** layers.json, names.ts and registerKerasLayers agree: whatever the schema accepts, the twin can build by name. */
describe("every layer and activation the schema accepts has a registered TF.js class", () => {
  it("each layer class resolves to a registered TF.js class: ours where kerasCustomClass says, else TF.js's own", async () => {
    const tf = await loadTfjs();
    registerKerasLayers(tf);
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const [cls, rule] of Object.entries(LAYER_RULES)) {
      if (cls === "InputLayer") continue;
      const name = kerasCustomClass(cls, {}) ?? rule.tfjs;
      expect(name, `${cls}: no TF.js class`).not.toBeNull();
      expect(map[name!]?.[0], `${cls} → ${name} is not registered`).toBeDefined();
      expect(name).not.toContain("_"); // TF.js camel-cases string values of a snake_case JSON
    }
  });

  it("each activation resolves to a registered TF.js activation, ours where TF.js has none", async () => {
    const tf = await loadTfjs();
    registerKerasLayers(tf);
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const [keras, tfjs] of Object.entries(ACTIVATIONS)) {
      expect(map[tfjs]?.[0], `${keras} → ${tfjs} is not registered`).toBeDefined();
      const own = kerasCustomActivation(keras);
      if (own !== null) expect(tfjs, keras).toBe(own);
      expect(tfjs).not.toContain("_");
    }
    expect(kerasCustomActivation("hard_swish")).toBe(kerasCustomActivation("hard_silu"));
  });

  it("the random augmentation layers are identities at inference, RandomCrop is not among them", () => {
    const identities = Object.entries(LAYER_RULES).filter(([cls]) => cls.startsWith("Random")).map(([cls, rule]) => [cls, rule.inference]);
    expect(identities.length).toBeGreaterThanOrEqual(6);
    for (const [cls, inference] of identities) expect(inference, cls).toBe("identity");
    expect(LAYER_RULES["RandomCrop"]).toBeUndefined();
  });
});

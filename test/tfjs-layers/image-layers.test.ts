import { beforeAll, describe, expect, it } from "vitest";
import { type KerasLayerClasses, TFBRIDGE_DEPTHWISE_CONV2D, TFBRIDGE_GLOBAL_AVERAGE_POOLING_2D, TFBRIDGE_UP_SAMPLING_2D, registerKerasLayers } from "../../src/tfjs-layers/index.js";
import { type Tfjs, loadTfjs } from "../../src/tfjs/runtime.js";

type Tensor = import("@tensorflow/tfjs-node").Tensor;
const shapeOf = (t: unknown) => (t as { shape: (number | null)[] }).shape;

let tf: Tfjs;
let classes: KerasLayerClasses;

beforeAll(async () => {
  tf = await loadTfjs();
  classes = registerKerasLayers(tf);
});

// Numbers against Keras are test/parity/image-layers.test.ts's; these pin down what TF.js's own classes
// get wrong (the defects our classes exist for) and that ours survive model.json.
describe("the 2-D classes TF.js's own would get wrong", () => {
  it("DepthwiseConv2D: TF.js's drops dilation_rate (undilated shape); ours gives Keras's", () => {
    const args = { kernelSize: 3, dilationRate: 2, depthMultiplier: 2 } as const;
    expect(shapeOf(tf.layers.depthwiseConv2d(args).apply(tf.input({ shape: [9, 8, 3] })))).toEqual([null, 7, 6, 6]);
    expect(shapeOf(new classes.TfbridgeDepthwiseConv2D(args).apply(tf.input({ shape: [9, 8, 3] })))).toEqual([null, 5, 4, 6]); // 9 − (3−1)·2
    const layer = new classes.TfbridgeDepthwiseConv2D({ ...args, padding: "same" });
    const y = layer.apply(tf.ones([1, 9, 8, 3])) as Tensor;
    expect(y.shape).toEqual([1, 9, 8, 6]);
    tf.dispose(y);
  });

  it("Global{Average,Max}Pooling2D: keepdims keeps [batch, 1, 1, channels], as Keras 3 does (TF.js has no keepdims)", async () => {
    const x = tf.tensor4d(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [1, 4, 2, 3]);
    const avg = new classes.TfbridgeGlobalAveragePooling2D({ keepdims: true });
    const max = new classes.TfbridgeGlobalMaxPooling2D({ keepdims: true });
    expect(shapeOf(avg.apply(tf.input({ shape: [4, 2, 3] })))).toEqual([null, 1, 1, 3]);
    const [a, m] = [avg.apply(x) as Tensor, max.apply(x) as Tensor];
    expect(a.shape).toEqual([1, 1, 1, 3]);
    expect(Array.from(await a.data())).toEqual(Array.from(await tf.mean(x, [1, 2]).data()));
    expect(Array.from(await m.data())).toEqual(Array.from(await tf.max(x, [1, 2]).data()));
    expect(shapeOf(new classes.TfbridgeGlobalMaxPooling2D({}).apply(tf.input({ shape: [4, 2, 3] })))).toEqual([null, 3]);
    tf.dispose([x, a, m]);
  });

  it("UpSampling2D bilinear: TF.js's samples without half-pixel centres; ours with them (Keras 3's tf.image.resize)", async () => {
    const x = tf.tensor4d([0, 1, 2, 3], [1, 2, 2, 1]);
    const ours = new classes.TfbridgeUpSampling2D({ size: [2, 2], interpolation: "bilinear" }).apply(x) as Tensor;
    const stock = tf.layers.upSampling2d({ size: [2, 2], interpolation: "bilinear" }).apply(x) as Tensor;
    // Half-pixel centres: output row 0 samples input row −0.25, clamped to 0; row 1 samples 0.25.
    expect(Array.from(await ours.data())).toEqual([0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]);
    expect(Array.from(await stock.data()).slice(0, 4)).toEqual([0, 0.5, 1, 1]);
    tf.dispose([x, ours, stock]);
  });

  it("survive tf.models.modelFromJSON with snake_case keys and serialize back", async () => {
    const topology = {
      class_name: "Sequential",
      config: {
        name: "seq",
        layers: [
          { class_name: TFBRIDGE_DEPTHWISE_CONV2D, config: { name: "dw", batch_input_shape: [null, 9, 9, 2], kernel_size: [3, 3], dilation_rate: [2, 2], depth_multiplier: 1, padding: "valid" } },
          { class_name: TFBRIDGE_UP_SAMPLING_2D, config: { name: "up", size: [2, 2], interpolation: "bilinear" } },
          { class_name: TFBRIDGE_GLOBAL_AVERAGE_POOLING_2D, config: { name: "gap", keepdims: true } },
        ],
      },
    };
    const model = await tf.models.modelFromJSON(structuredClone(topology) as never);
    expect(model.outputs[0]!.shape).toEqual([null, 1, 1, 2]);
    expect(model.layers.map((l) => l.getClassName())).toEqual([TFBRIDGE_DEPTHWISE_CONV2D, TFBRIDGE_UP_SAMPLING_2D, TFBRIDGE_GLOBAL_AVERAGE_POOLING_2D]);
    const again = await tf.models.modelFromJSON(model.toJSON(null, false) as never);
    expect(again.outputs[0]!.shape).toEqual([null, 1, 1, 2]);
    expect(again.layers[1]!.getConfig()["interpolation"]).toBe("bilinear");
    model.dispose();
    again.dispose();
  });
});

import { describe, expect, it } from "vitest";
import { compareArrays } from "../../src/parity/compare.js";
import { registerKerasLayers } from "../../src/tfjs-layers/index.js";
import { loadTfjs, withBackend } from "../../src/tfjs/runtime.js";
import { ndarray } from "../../src/wire/ndarray.js";

/**
 * tfbridge's layers on TF.js's WASM backend (the browser's fast CPU path), in Node: the same result
 * as the JS CPU backend. Regression: TF.js 4.22's WASM Reverse kernel mishandles bool tensors, so a
 * masked go_backwards recurrence (every Bidirectional over an Embedding mask) crashed with "memory
 * access out of bounds" until the mask was reversed as int32.
 */
describe("tfjs-layers on the WASM backend", () => {
  it("a masked go_backwards GRU in a Bidirectional computes what the CPU backend does", async () => {
    const tf = await loadTfjs();
    await import("@tensorflow/tfjs-backend-wasm");
    const { TfbridgeGRU } = registerKerasLayers(tf);
    const run = (backend: "cpu" | "wasm") =>
      withBackend(tf as never, backend as never, async () => {
        const layer = tf.layers.bidirectional({ layer: new TfbridgeGRU({ units: 4, returnSequences: true, resetAfter: true, kernelInitializer: "ones", recurrentInitializer: "ones" } as never) as never });
        const x = tf.linspace(-1, 1, 3 * 6 * 2).reshape([3, 6, 2]);
        const mask = tf.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]], undefined, "bool");
        const y = layer.apply(x, { mask }) as never as import("@tensorflow/tfjs-node").Tensor;
        const out = ndarray("float32", y.shape, (await y.data()) as Float32Array);
        tf.dispose([x, mask, y]);
        return out;
      });
    const cpu = await run("cpu");
    const wasm = await run("wasm");
    const c = compareArrays(wasm, cpu, { atol: 1e-6, rtol: 0 });
    expect(c.pass, `max abs ${c.maxAbsError}`).toBe(true);
    expect(cpu.shape).toEqual([3, 6, 8]);
  });

  it("the 2-D classes (dilated convolutions through space-to-batch, bilinear upsampling, keepdims pooling) compute what the CPU backend does", async () => {
    const tf = await loadTfjs();
    await import("@tensorflow/tfjs-backend-wasm");
    const c = registerKerasLayers(tf);
    const run = (backend: "cpu" | "wasm") =>
      withBackend(tf as never, backend as never, async () => {
        const stack = [
          new c.TfbridgeDepthwiseConv2D({ kernelSize: 3, dilationRate: 2, padding: "same", depthMultiplier: 2 }),
          new c.TfbridgeSeparableConv2D({ filters: 3, kernelSize: 2, dilationRate: [2, 1], activation: "relu" }),
          new c.TfbridgeConv2D({ filters: 2, kernelSize: 2, dilationRate: 2, padding: "same" }),
          new c.TfbridgeUpSampling2D({ size: [2, 3], interpolation: "bilinear" }),
          new c.TfbridgeGlobalAveragePooling2D({ keepdims: true }),
        ];
        let y = tf.linspace(-1, 1, 2 * 9 * 8 * 3).reshape([2, 9, 8, 3]) as never as import("@tensorflow/tfjs-node").Tensor;
        for (const layer of stack) {
          // The same weights on both backends: built, then set from a fixed pattern.
          layer.build(y.shape);
          layer.setWeights(layer.getWeights().map((w) => tf.sin(tf.linspace(1, 7, w.size)).reshape(w.shape)));
          y = layer.apply(y) as never;
        }
        const out = ndarray("float32", y.shape, (await y.data()) as Float32Array);
        tf.dispose(y);
        return out;
      });
    const cpu = await run("cpu");
    const wasm = await run("wasm");
    expect(cpu.shape).toEqual([2, 1, 1, 2]);
    // Outputs above 1 in magnitude after three convolutions, which the two backends sum in other orders.
    const d = compareArrays(wasm, cpu, { atol: 1e-6, rtol: 1e-6 });
    expect(d.pass, `max abs ${d.maxAbsError}`).toBe(true);
    expect(Math.max(...Array.from(cpu.data as Float32Array, Math.abs))).toBeGreaterThan(1);
  });
});

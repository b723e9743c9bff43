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
});

import { beforeAll, describe, expect, it } from "vitest";
import type { ModelWeights } from "../../src/models/handle.js";
import { checkModelConfig } from "../../src/models/schema.js";
import { compareArrays } from "../../src/parity/compare.js";
import { buildTfjsModel } from "../../src/tfjs/model.js";
import { type ModelCase, type ModelReference, kerasModelReference } from "./keras-model-reference.js";

/**
 * Keras 3's activation, preprocessing and small merge layers (issue 20) against their TF.js twin:
 * each case is one layer in a functional model, run by real Keras 3 (eager, tf.function, v1
 * Session), then checked by both schema halves and built by the twin (topology + our classes) from
 * the same model.to_json() with the same weights, on tfjs-node and on TF.js's pure-JS cpu backend.
 */

const IMAGE = [2, 6, 7, 3];
const image = (shape = IMAGE, range: [number, number] = [-3, 3]) => [{ shape, range }];
let seed = 1;
const layer = (id: string, class_name: string, config: Record<string, unknown>, inputs: ModelCase["inputs"] = image()): ModelCase => ({ id, class_name, config, inputs, seed: seed++ });

const CASES: ModelCase[] = [
  layer("ReLU defaults", "ReLU", {}),
  layer("ReLU max_value 6 (relu6)", "ReLU", { max_value: 6 }, image(IMAGE, [-9, 9])),
  layer("ReLU max_value 2.5", "ReLU", { max_value: 2.5 }),
  layer("ReLU negative_slope (leaky_relu)", "ReLU", { negative_slope: 0.1 }),
  layer("ReLU negative_slope and max_value", "ReLU", { negative_slope: 0.1, max_value: 4 }, image(IMAGE, [-9, 9])),
  layer("ReLU threshold", "ReLU", { threshold: 0.5 }),
  layer("ReLU threshold, negative_slope, max_value", "ReLU", { threshold: 0.5, negative_slope: 0.2, max_value: 2 }),
  layer("LeakyReLU default 0.3", "LeakyReLU", {}),
  layer("LeakyReLU 0.05", "LeakyReLU", { negative_slope: 0.05 }),
  layer("PReLU", "PReLU", {}),
  layer("PReLU shared_axes [1, 2]", "PReLU", { shared_axes: [1, 2] }),
  layer("ELU alpha 1", "ELU", {}),
  layer("ELU alpha 0.5", "ELU", { alpha: 0.5 }),
  layer("Softmax last axis", "Softmax", {}),
  layer("Softmax axis 1", "Softmax", { axis: 1 }),
  layer("Softmax axes [1, 2]", "Softmax", { axis: [1, 2] }),
  layer("Softmax axes [2]", "Softmax", { axis: [2] }),
  // Keras aligns the [batch, steps] mask with the trailing axes of [batch, steps, features]: square shapes broadcast.
  { ...layer("Softmax under an Embedding's mask", "Softmax", {}, [{ shape: [4, 4], dtype: "int32", range: [0, 3] }]), before: { class_name: "Embedding", config: { input_dim: 5, output_dim: 4, mask_zero: true } } },
  layer("Rescaling 1/255", "Rescaling", { scale: 1 / 255 }, image(IMAGE, [0, 255])),
  layer("Rescaling scale and offset", "Rescaling", { scale: 2, offset: -1 }),
  layer("Rescaling an int image", "Rescaling", { scale: 1 / 127.5, offset: -1 }, [{ shape: IMAGE, dtype: "int32", range: [0, 256] }]),
  layer("Normalization mean/variance per channel", "Normalization", { mean: [0.5, -1, 2], variance: [1.5, 0.25, 4] }),
  layer("Normalization scalar mean/variance", "Normalization", { mean: 0.5, variance: 2 }),
  layer("Normalization invert", "Normalization", { mean: [0.5, -1, 2], variance: [1.5, 0.25, 4], invert: true }),
  layer("Normalization adapted (weights)", "Normalization", {}),
  layer("Normalization adapted over axes [1, 3]", "Normalization", { axis: [1, 3] }),
  layer("Normalization adapted, invert", "Normalization", { invert: true }),
  layer("Resizing bilinear up", "Resizing", { height: 9, width: 11 }),
  layer("Resizing bilinear down", "Resizing", { height: 3, width: 5 }),
  layer("Resizing nearest", "Resizing", { height: 9, width: 4, interpolation: "nearest" }),
  layer("Resizing crop_to_aspect_ratio", "Resizing", { height: 4, width: 8, crop_to_aspect_ratio: true }),
  layer("Resizing pad_to_aspect_ratio", "Resizing", { height: 8, width: 4, pad_to_aspect_ratio: true, fill_value: 0.5 }),
  layer("Resizing an int image, nearest", "Resizing", { height: 4, width: 9, interpolation: "nearest" }, [{ shape: IMAGE, dtype: "int32", range: [0, 256] }]),
  layer("Resizing an int image, bilinear", "Resizing", { height: 4, width: 9 }, [{ shape: IMAGE, dtype: "int32", range: [0, 256] }]),
  layer("CenterCrop inside", "CenterCrop", { height: 3, width: 4 }),
  layer("CenterCrop odd from even", "CenterCrop", { height: 5, width: 2 }),
  layer("CenterCrop larger than the image", "CenterCrop", { height: 8, width: 5 }),
  layer("CategoryEncoding multi_hot", "CategoryEncoding", { num_tokens: 6 }, [{ shape: [4, 3], dtype: "int32", range: [0, 6] }]),
  layer("CategoryEncoding count", "CategoryEncoding", { num_tokens: 6, output_mode: "count" }, [{ shape: [4, 5], dtype: "int32", range: [0, 6] }]),
  layer("CategoryEncoding one_hot", "CategoryEncoding", { num_tokens: 5, output_mode: "one_hot" }, [{ shape: [4], dtype: "int32", range: [0, 5] }]),
  layer("CategoryEncoding one_hot of [batch, 1]", "CategoryEncoding", { num_tokens: 5, output_mode: "one_hot" }, [{ shape: [4, 1], dtype: "int32", range: [0, 5] }]),
  layer("Identity", "Identity", {}),
  layer("Dot 2-D axes 1", "Dot", { axes: 1 }, [{ shape: [3, 5] }, { shape: [3, 5] }]),
  layer("Dot 2-D normalize", "Dot", { axes: 1, normalize: true }, [{ shape: [3, 5] }, { shape: [3, 5] }]),
  layer("Dot 3-D axes [2, 2]", "Dot", { axes: [2, 2] }, [{ shape: [2, 3, 4] }, { shape: [2, 5, 4] }]),
  layer("Dot 3-D axes [2, 1]", "Dot", { axes: [2, 1] }, [{ shape: [2, 3, 4] }, { shape: [2, 4, 5] }]),
  layer("Dot 3-D axes [1, 1] normalize", "Dot", { axes: [1, 1], normalize: true }, [{ shape: [2, 3, 4] }, { shape: [2, 3, 5] }]),
  layer("Dot 4-D with 3-D axes [3, 1]", "Dot", { axes: [3, 1] }, [{ shape: [2, 3, 4, 5] }, { shape: [2, 5, 6] }]),
  layer("Dot 3-D with 2-D axes -1", "Dot", { axes: -1 }, [{ shape: [2, 3, 4] }, { shape: [2, 4] }]),
  layer("Minimum", "Minimum", {}, [{ shape: [3, 4, 5] }, { shape: [3, 4, 5] }]),
  layer("RandomFlip", "RandomFlip", {}),
  layer("RandomRotation", "RandomRotation", { factor: 0.2 }),
  layer("RandomZoom", "RandomZoom", { height_factor: 0.3 }),
  layer("RandomTranslation", "RandomTranslation", { height_factor: 0.1, width_factor: 0.2 }),
  layer("RandomContrast", "RandomContrast", { factor: 0.5 }),
  layer("RandomBrightness", "RandomBrightness", { factor: 0.2 }),
  ...["hard_silu", "hard_swish", "leaky_relu", "mish", "log_softmax", "exponential", "hard_tanh", "log_sigmoid", "tanh_shrink", "silu", "relu6"].map((a) =>
    layer(`Activation ${a}`, "Activation", { activation: a }, image([2, 5, 9], [-6, 6])),
  ),
];

/**
 * tfjs-node runs TF's own kernels in this process, so with TF's default oneDNN setting every case
 * must be bit-identical to Keras's eager output, except where Keras's eager softmax runs oneDNN's
 * softmax kernel and tfjs-node's does not: on a CPU with AVX-512 that rounds otherwise (measured
 * here: up to 4 ULP). Those cases must be bit-identical with oneDNN off on the Keras side, which
 * shows the cause. (The matmul of Dot is the other way round: tfjs-node's and Keras's agree with
 * oneDNN on, as both run the same oneDNN matmul.)
 */
const ONEDNN_SOFTMAX = new Set(["Softmax last axis", "Softmax under an Embedding's mask", "Softmax axis 1", "Softmax axes [2]"]);
const ONEDNN_SOFTMAX_ULP = 8;
/**
 * The pure-JS cpu backend computes exp, log, tanh, interpolation weights and reductions in its own
 * code: within 1e-5 absolute plus 1e-6 relative (exponential reaches e^6 ≈ 403), measured.
 */
const CPU_BOUND = { atol: 1e-5, rtol: 1e-6 };
/** Keras rounds a bilinear resize of an int image back to ints: a value a few ULP off .5 on the cpu backend rounds the other way. */
const CPU_BOUNDS: Record<string, { atol: number; rtol: number }> = { "Resizing an int image, bilinear": { atol: 1, rtol: 0 } };

let refs: Map<string, ModelReference>;
let refsOnednnOff: Map<string, ModelReference>;

beforeAll(() => {
  refs = kerasModelReference(CASES);
  refsOnednnOff = kerasModelReference(CASES.filter((c) => ONEDNN_SOFTMAX.has(c.id)), { TF_ENABLE_ONEDNN_OPTS: "0" });
}, 600_000);

describe("activation, preprocessing and merge layers against real Keras 3 (same config, same weights)", () => {
  for (const c of CASES) {
    it(`${c.id}: both schemas accept it, tfjs-node ${ONEDNN_SOFTMAX.has(c.id) ? `bit-identical with oneDNN off (on: ≤ ${ONEDNN_SOFTMAX_ULP} ULP)` : "bit-identical"}, cpu within ${JSON.stringify(CPU_BOUNDS[c.id] ?? CPU_BOUND)}`, async () => {
      const ref = refs.get(c.id)!;
      expect(ref.pythonSchema).toEqual({ supported: true });
      const config = checkModelConfig(ref.config);
      const weights = ref.weights as unknown as ModelWeights;
      const node = await buildTfjsModel(config, weights, { backend: "tensorflow" });
      const cpu = await buildTfjsModel(config, weights, { backend: "cpu" });
      const [fromNode] = await node.predict(ref.inputs);
      const [fromCpu] = await cpu.predict(ref.inputs);
      await node.dispose();
      await cpu.dispose();
      const exact = compareArrays(fromNode!, ref.eager, { atol: 0, rtol: 0 });
      expect(exact.shape.actual).toEqual(exact.shape.expected);
      if (ONEDNN_SOFTMAX.has(c.id)) {
        expect(exact.maxUlp, `tfjs-node: ${exact.maxUlp} ULP`).toBeLessThanOrEqual(ONEDNN_SOFTMAX_ULP);
        expect(compareArrays(fromNode!, refsOnednnOff.get(c.id)!.eager, { atol: 0, rtol: 0 }).maxUlp, "tfjs-node against Keras with oneDNN off").toBe(0);
      } else expect(exact.maxUlp, `tfjs-node: ${exact.maxUlp} ULP, ${exact.maxAbsError} abs`).toBe(0);
      const close = compareArrays(fromCpu!, ref.eager, CPU_BOUNDS[c.id] ?? CPU_BOUND);
      expect(close.pass, `cpu: ${close.maxAbsError} abs`).toBe(true);
      if (c.class_name.startsWith("Random") || c.class_name === "Identity") expect(compareArrays(ref.eager, ref.inputs[0] as never, { atol: 0, rtol: 0 }).maxUlp).toBe(0);
    });
  }
});

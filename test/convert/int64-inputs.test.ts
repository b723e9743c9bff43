import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ModelError, convertModel, ndarray } from "../../src/index.js";
import { buildTfjsModel, loadTfjsModel } from "../../src/entry/parity.js";
import { tfjsFeed } from "../../src/tfjs/inputs.js";
import { sharedBridge } from "../helpers.js";

const dir = mkdtempSync(join(tmpdir(), "tfbridge-int64-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bridge = sharedBridge();

// keras.io's token input: int64 ids of any length. The head is pooling, not Dense, so every layer is
// exact and `ok` speaks for the int64 path alone.
execFileSync(".venv/bin/python", ["-c", `import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, numpy as np
L = keras.layers
keras.utils.set_random_seed(3)
os.chdir(${JSON.stringify(dir)})
tokens = keras.Input(shape=(None,), dtype="int64", name="tokens")
keras.Model(tokens, L.GlobalAveragePooling1D(name="pool")(L.Embedding(50, 4, name="embed")(tokens))).save("tokens.keras")
np.savez("too-big.npz", tokens=np.array([[1, 2, 2**31]], dtype="int64"))
`], { stdio: ["ignore", "ignore", "pipe"] });

const ids = (values: bigint[]) => ndarray("int64", [1, values.length], BigInt64Array.from(values));

describe("int64 model inputs in TF.js", () => {
  it("convert writes an int32 input that TF.js's own loader and predict run as the Session does", async () => {
    const out = join(dir, "tokens");
    const result = await convertModel(join(dir, "tokens.keras"), out, { bridge: bridge(), savedModel: true });
    expect(result.ok).toBe(true);
    // tfjs-node feeds the SavedModel's int64 signature input from an int32 tensor (tf.tensor refused the BigInt64Array).
    expect(result.savedModel).toMatchObject({ pass: true, worstUlp: 0 });
    expect(result.report.modelOutputs[0]!.stockPredict!.maxUlp).toBe(0);
    const layers = JSON.parse(readFileSync(join(out, "model.json"), "utf8")).modelTopology.config.layers;
    expect(layers[0]).toMatchObject({ class_name: "InputLayer", config: { dtype: "int32" } });

    const x = ids([0n, 7n, 49n, 3n, 3n]);
    await using handle = await bridge().loadModel(join(dir, "tokens.keras"));
    const session = (await handle.predict(x)).outputs.pool!.data as Float32Array;
    const twin = await loadTfjsModel(join(out, "model.json"));
    try {
      expect((await twin.predictStock([x]))[0]!.data).toEqual(session);
    } finally {
      await twin.dispose();
    }
  });

  it.each([2n ** 31n, -(2n ** 31n) - 1n, 2n ** 62n])("the twin refuses %s, outside int32, naming the input, before it runs", async (big) => {
    await using handle = await bridge().loadModel(join(dir, "tokens.keras"));
    const twin = await buildTfjsModel(handle.config, await handle.weights());
    try {
      const error = await twin.predict([ids([1n, big])]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelError);
      expect((error as ModelError).details.input).toBe("tokens");
      expect((error as ModelError).message).toContain(`input tokens holds ${big} at index 1`);
    } finally {
      await twin.dispose();
    }
  });

  it("int32's own bounds still fit; a dtype TF.js cannot take is refused by input name", () => {
    expect(tfjsFeed("tokens", ids([2n ** 31n - 1n, -(2n ** 31n), 0n]))).toEqual({ data: Int32Array.of(2 ** 31 - 1, -(2 ** 31), 0), shape: [1, 3], dtype: "int32" });
    expect(() => tfjsFeed("text", ndarray("string", [1], ["a"]))).toThrow(/input text must be float32, int32 or int64, got string/);
  });

  it("convert with such an input fails typed and leaves nothing behind", async () => {
    const out = join(dir, "too-big");
    const error = await convertModel(join(dir, "tokens.keras"), out, { bridge: bridge(), inputs: join(dir, "too-big.npz") }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).details.input).toBe("tokens");
    expect(existsSync(out)).toBe(false);
  });
});

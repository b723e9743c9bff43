import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ModelError, Pool, ndarray } from "../../src/index.js";
import { compareArrays } from "../../src/entry/parity.js";
import { sharedBridge } from "../helpers.js";

const bridge = sharedBridge();
const dir = mkdtempSync(join(tmpdir(), "tfbridge-text-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a Python snippet with Keras and NumPy, as a user's script would; `DIR` is this file's folder. */
function python(body: string): void {
  const script = `import os\nos.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"\nimport keras, numpy as np\nL = keras.layers\nDIR = ${JSON.stringify(dir)}\n${body}\n`;
  execFileSync(".venv/bin/python", ["-c", script], { stdio: ["ignore", "ignore", "pipe"] });
}

// The vocabulary is given inline: nothing to adapt, nothing downloaded. Index 0 is padding, 1 out of vocabulary.
const VOCABULARY = ["the", "cat", "sat", "größe", "日本"];
const SENTENCES = ["The cat sat", "Größe 日本 🙂!", "", "dog"];
const TOKENS = [2, 3, 4, 0, 5, 6, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0].map(BigInt);
const metric = (text: string, line: RegExp) => Number(text.split("\n").find((l) => line.test(l))?.split(" ").at(-1) ?? NaN);

describe("a text model fed strings through the real worker", () => {
  // A SavedModel of the layer alone: its serving signature runs whole (the .keras route is below).
  const saved = join(dir, "vectorizer");
  python(`t = keras.Input(shape=(1,), dtype="string", name="text")
v = L.TextVectorization(vocabulary=${JSON.stringify(VOCABULARY)}, output_mode="int", output_sequence_length=4, name="tokens")(t)
keras.Model(t, v).export(${JSON.stringify(saved)}, verbose=False)`);

  it.each(["session", "eager", "function"] as const)("predicts token ids in %s mode", async (mode) => {
    await using handle = await bridge().loadModel(saved);
    expect(handle.inputs).toEqual([{ name: "text", shape: [null, 1], dtype: "string" }]);
    const { outputs } = await handle.predict(ndarray("string", [4, 1], SENTENCES), { mode });
    const [tokens] = Object.values(outputs);
    expect(tokens!.dtype).toBe("int64");
    expect(tokens!.shape).toEqual([4, 4]);
    expect([...(tokens!.data as BigInt64Array)]).toEqual(TOKENS);
  });

  it("is served by a pool that merges concurrent string requests into one padded run", async () => {
    await using pool = await Pool.start({ size: 1 });
    await pool.loadModel(saved, { name: "vectorizer", batching: { maxBatchSize: 8, maxDelayMicros: 200_000, allowedBatchSizes: [8] } });
    const replies = await Promise.all(SENTENCES.map((s) => pool.predict("vectorizer", ndarray("string", [1, 1], [s]))));
    replies.forEach((r, i) => {
      const [tokens] = Object.values(r.outputs);
      expect(tokens!.shape).toEqual([1, 4]);
      expect([...(tokens!.data as BigInt64Array)]).toEqual(TOKENS.slice(4 * i, 4 * i + 4));
    });
    expect(metric(await pool.metrics(), /^tfbridge_batch_size_sum\{model="vectorizer",version="1"\}/)).toBe(8); // 4 rows and 4 of padding: one run
  });

  it("refuses a number array for the string input in Node, naming the input", async () => {
    await using handle = await bridge().loadModel(saved);
    const error = await handle.predict(ndarray("float32", [1, 1], Float32Array.of(1))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).details.input).toBe("text");
  });
});

describe("a text classifier saved as a .keras file, loaded with bridge.loadModel and fed JS strings", () => {
  // keras.io's shape of a text model: TextVectorization inside the model, then Embedding, pooling and a
  // softmax head. Keras saves it, predicts the sentences itself, and both go to the worker.
  const file = join(dir, "classifier.keras");
  python(`t = keras.Input(shape=(1,), dtype="string", name="text")
x = L.TextVectorization(vocabulary=${JSON.stringify(VOCABULARY)}, output_mode="int", output_sequence_length=4, name="tokens")(t)
x = L.Embedding(len(${JSON.stringify(VOCABULARY)}) + 2, 8, mask_zero=True, name="embed")(x)
x = L.GlobalAveragePooling1D(name="pool")(x)
m = keras.Model(t, L.Dense(3, activation="softmax", name="head")(x))
m.save(${JSON.stringify(file)})
import tensorflow as tf
np.savez(os.path.join(DIR, "classifier.npz"), expected=m.predict(tf.constant(${JSON.stringify(SENTENCES)})[:, None], verbose=0))`);

  it.each(["session", "eager", "function"] as const)("%s mode equals Keras's own predict; the handle says it has no TF.js twin, and why", async (mode) => {
    await using handle = await bridge().loadModel(file);
    expect(handle.inputs).toEqual([{ name: "text", shape: [null, 1], dtype: "string" }]);
    expect(handle.tfjs.supported).toBe(false);
    expect(handle.tfjs.supported === false && handle.tfjs.problems.map((p) => p.class)).toContain("TextVectorization");
    const { outputs } = await handle.predict(ndarray("string", [4, 1], SENTENCES), { mode });
    const expected = (await bridge().loadNpz(join(dir, "classifier.npz"))).expected!;
    const got = outputs.head!;
    expect(got.shape).toEqual([4, 3]);
    // The empty sentence masks every step: Keras's masked average is 0/0, NaN in both runtimes.
    const comparison = compareArrays(got, expected, { atol: 1e-5, rtol: 0 });
    expect(comparison.nan).toEqual({ expected: 3, actual: 3, mismatched: 0 });
    expect(comparison.pass, `max abs ${comparison.maxAbsError}`).toBe(true);
  });
});

describe("loadNpz", () => {
  it("loads text arrays of a .npz (unicode and bytes, no pickle) as string arrays", async () => {
    python(`np.savez(os.path.join(DIR, "text.npz"), words=np.array([["ß", ""], ["日本", "🙂"]]), raw=np.array([b"tf", b"\\xc3\\x9f"]), ids=np.arange(3))`);
    const arrays = await bridge().loadNpz(join(dir, "text.npz"));
    expect(arrays.words).toEqual({ dtype: "string", shape: [2, 2], data: ["ß", "", "日本", "🙂"] });
    expect(arrays.raw).toEqual({ dtype: "string", shape: [2], data: ["tf", "ß"] });
    expect(arrays.ids!.dtype).toBe("int64");
  });

  it("names the array and the file when one cannot be sent", async () => {
    python(`np.savez(os.path.join(DIR, "bad.npz"), fine=np.arange(2), latin=np.array([b"\\xff"]))`);
    const error = await bridge().loadNpz(join(dir, "bad.npz")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).message).toMatch(/bad\.npz: array latin \(\|S1\) cannot be sent/);
    expect((error as ModelError).details.file).toBe(join(dir, "bad.npz"));
  });
});

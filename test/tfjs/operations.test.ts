import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectEndToEnd } from "../applications/end-to-end.js";
import { sharedBridge } from "../helpers.js";
import { type KerasReference, kerasReferences, maxAbsDiff } from "../models/keras-reference.js";

// Keras 3 operation nodes (`x + y`, keras.ops.* on symbolic tensors) in the TF.js twin: one
// TfbridgeOperation layer per node, computing what Keras's TensorFlow backend computes.
const bridge = sharedBridge();
const dir = mkdtempSync(join(tmpdir(), "tfbridge-operations-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODELS: Record<string, string> = {
  // Every operation of layers.json `operations`, on values of moderate size.
  every: `from keras import ops
x = keras.Input((4, 3), name="x")
y = keras.Input((4, 3), name="y")
d = L.Dense(3, name="d")(x)
a = (d + y) * 0.5 - 1.0
b = 2.0 - ops.maximum(a, y) / (ops.abs(x) + 3)
c = ops.divide(ops.minimum(b, 0.5), 2.0) ** 2
t = ops.matmul(b, ops.transpose(y, (0, 2, 1)))
p = c
r = ops.concatenate([ops.mean(t, axis=1, keepdims=True), ops.sum(t, axis=1, keepdims=True) * 0.1], axis=1)
f = ops.squeeze(ops.expand_dims(ops.reshape(r, (-1, 8)), 1), axis=1)
g = ops.tanh(f)
h = ops.relu(g) + ops.relu6(g) + ops.sigmoid(g) + ops.silu(g) + ops.softmax(g) + ops.square(g) + ops.exp(-ops.abs(g)) + ops.log(ops.abs(g) + 1) + ops.sqrt(ops.abs(g)) - ops.negative(g)
w = ops.matmul(d, ops.transpose(L.Dense(3, name="proj")(x), (0, 2, 1)))
s = ops.max(w, axis=-1) + ops.min(w, axis=1) + ops.mean(c, axis=-1) + ops.max(p, axis=-1)
m = keras.Model([x, y], L.Concatenate(name="out")([L.Dense(2, name="head")(h), d[:, 0], d[:, -1, 1:], s, ops.matmul(d, ops.transpose(d[:, :2, :], (0, 2, 1)))[:, 0]]))`,
  // A residual connection and a class-token slice, as a Transformer encoder writes them.
  residual: `tokens = keras.Input((5, 4), name="tokens")
h = L.Dense(4, activation="gelu", name="ffn")(tokens)
x = L.LayerNormalization(name="norm")(tokens + h)
m = keras.Model(tokens, L.Dense(2, name="cls")(x[:, 0]))`,
  // Keras hands no mask through an operation node: the LSTM after it runs every step.
  afterMask: `ids = keras.Input((6,), dtype="int32", name="ids")
e = L.Embedding(10, 4, mask_zero=True, name="embed")(ids)
m = keras.Model(ids, L.LSTM(3, name="lstm")(e * 2.0 + 1.0))`,
  // A user's ops.concatenate is a value, though Keras also writes Concatenate nodes for masks.
  valueConcat: `from keras import ops
ids = keras.Input((4,), dtype="int32", name="ids")
e = L.Embedding(10, 3, mask_zero=True, name="embed")(ids)
m = keras.Model(ids, L.GRU(2, name="gru")(L.Concatenate(name="joined")([e, ops.concatenate([e, e], axis=-1)])))`,
};

let refs: Record<string, KerasReference>;
beforeAll(async () => {
  refs = await kerasReferences(bridge(), dir, MODELS);
}, 120_000);

describe("operation nodes in the TF.js twin", () => {
  it.each(Object.keys(MODELS))("%s: every operation compared as a layer, each exact or explained; convert proves it; stock TF.js agrees", { timeout: 300_000 }, (name) =>
    expectEndToEnd(bridge(), name, refs[name]!, dir),
  );

  it("the operations are the worker's names and classes (Keras numbers them: add, add_1, …)", async () => {
    await using handle = await bridge().loadModel(refs.every!.path);
    const classes = new Set(handle.layers.map((l) => l.class));
    for (const cls of ["Add", "Subtract", "Multiply", "TrueDivide", "Divide", "Maximum", "Minimum", "Power", "Matmul", "Transpose", "Mean", "Sum", "Max", "Min", "Reshape", "Concatenate", "ExpandDims", "Squeeze", "Tanh", "Relu", "Relu6", "Sigmoid", "Silu", "Softmax", "Square", "Exp", "Absolute", "Log", "Sqrt", "Negative", "GetItem"]) {
      expect(classes, cls).toContain(cls);
    }
  });
});

describe("operations the twin does not compute are refused by name", () => {
  const refused: Record<string, string> = {
    cumsum: `from keras import ops
x = keras.Input((4,), name="x")
m = keras.Model(x, L.Dense(1, name="d")(ops.cumsum(x, axis=-1)))`,
    intTensor: `from keras import ops
ids = keras.Input((4,), dtype="int32", name="ids")
m = keras.Model(ids, L.Embedding(20, 2, name="e")(ids + 1))`,
  };
  let bad: Record<string, KerasReference>;
  beforeAll(async () => {
    bad = await kerasReferences(bridge(), dir, refused);
  }, 120_000);

  it("an operation outside layers.json's operations: the node and its class named; the model still runs in Python", async () => {
    await using handle = await bridge().loadModel(bad.cumsum!.path);
    expect(handle.tfjs.supported).toBe(false);
    expect(handle.tfjs.supported ? [] : handle.tfjs.problems.map((p) => `${p.layer}:${p.class}`)).toEqual(["cumsum:Cumsum"]);
    expect(maxAbsDiff((await handle.predict(bad.cumsum!.inputs)).outputs.d!, bad.cumsum!.expected)).toBeLessThanOrEqual(1e-5);
  });

  it("an operation on an int32 tensor: refused, saying the twin computes operations in float32", async () => {
    await using handle = await bridge().loadModel(bad.intTensor!.path);
    const problems = handle.tfjs.supported ? [] : handle.tfjs.problems;
    expect(problems.map((p) => p.class)).toEqual(["Add"]);
    expect(problems[0]!.reason).toContain("int32 tensor");
  });
});

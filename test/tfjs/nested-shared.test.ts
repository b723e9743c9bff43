import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runModelParity } from "../../src/entry/parity.js";
import { expectEndToEnd } from "../applications/end-to-end.js";
import { sharedBridge } from "../helpers.js";
import { type KerasReference, kerasReferences } from "../models/keras-reference.js";

// Nested models and shared layers in the TF.js twin: the twin expands each nested model into its
// layers and gives each call of a shared layer a layer of its own, named as the worker names them.
const bridge = sharedBridge();
const dir = mkdtempSync(join(tmpdir(), "tfbridge-nested-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODELS: Record<string, string> = {
  // A functional base called on two inputs through one shared Dense, and a nested Sequential.
  siamese: `bi = keras.Input((4,), name="bi")
h = L.BatchNormalization(name="bn")(L.Dense(3, activation="tanh", name="d1")(bi))
base = keras.Model(bi, L.Dense(2, name="d2")(h), name="base")
seq = keras.Sequential([keras.Input((2,)), L.Dense(2, name="s1")], name="seq")
x = keras.Input((4,), name="x")
y = keras.Input((4,), name="y")
shared = L.Dense(4, activation="relu", name="shared")
m = keras.Model([x, y], L.Add(name="sum")([seq(base(shared(x))), base(shared(y))]))`,
  // A model inside a Sequential inside a model, with a layer shared inside the innermost.
  deep: `i = keras.Input((5,), name="i")
twice = L.Dense(5, activation="sigmoid", name="twice")
inner = keras.Model(i, twice(twice(i)), name="inner")
mid = keras.Sequential([keras.Input((5,)), inner, L.Dense(3, name="after")], name="mid")
x = keras.Input((5,), name="x")
m = keras.Model(x, L.Dense(1, name="head")(mid(x)))`,
  // Embedding(mask_zero)'s mask crosses into a nested model and reaches its LSTM.
  masked: `seq_in = keras.Input((6, 4), name="seq_in")
encoder = keras.Model(seq_in, L.LSTM(3, name="lstm")(seq_in), name="encoder")
ids = keras.Input((6,), dtype="int32", name="ids")
m = keras.Model(ids, L.Dense(2, name="head")(encoder(L.Embedding(10, 4, mask_zero=True, name="embed")(ids))))`,
};

let refs: Record<string, KerasReference>;
beforeAll(async () => {
  refs = await kerasReferences(bridge(), dir, MODELS);
}, 120_000);

describe("nested models and shared layers in the TF.js twin", () => {
  it.each(Object.keys(MODELS))("%s: worker = Keras; every layer the worker names compared, each exact or explained; convert proves it; stock TF.js agrees", { timeout: 300_000 }, (name) =>
    expectEndToEnd(bridge(), name, refs[name]!, dir),
  );

  it("the siamese model's names: both calls of the shared layer and of the base, the bases' own outputs", async () => {
    await using handle = await bridge().loadModel(refs.siamese!.path);
    const names = handle.layers.map((l) => l.name);
    for (const n of ["shared", "shared@1", "base/d1", "base@1/d1", "base", "base@1", "seq/s1", "seq", "sum"]) expect(names).toContain(n);
    const report = await runModelParity(handle, { inputs: refs.siamese!.inputs, skipCpu: true });
    const of = (n: string) => report.layers.find((l) => l.name === n)!;
    // The two calls see different inputs, so a twin that ran one call twice would fail one of them.
    for (const n of ["shared", "shared@1", "base", "base@1"]) expect(of(n).pass, `${n}: ${of(n).reason}`).toBe(true);
  });
});

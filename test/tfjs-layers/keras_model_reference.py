"""Reference outputs from real Keras 3 for one-layer models of any input rank, for the TF.js twin tests.

Reads a JSON list of cases on stdin, writes a JSON list of results on stdout. Each case names one
Keras layer (class name + Keras 3 config) and its inputs (shape with batch, dtype, value range),
optionally behind another layer (`before`, e.g. an Embedding whose mask the layer receives);
the layer is called on them in a functional model, its weights drawn from a seeded generator (any
weight named *variance positive), and the model run three ways: eagerly, in a tf.function, and in a
tf.compat.v1.Session over a graph rebuilt from model.to_json() (as the worker runs it). The result
carries that config, the weights by layer, and what the worker's schema (models/schema.py) says of
the config, so the TypeScript side can check its own schema and build the twin from the same config.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

from tfbridge_worker.models.schema import tfjs_support  # noqa: E402


def make_input(spec, rng):
    shape, dtype = spec["shape"], spec.get("dtype", "float32")
    low, high = spec.get("range", [-3, 3])
    if dtype.startswith("int"):
        return rng.integers(low, high, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def build(case):
    inputs = [keras.Input(batch_shape=s["shape"], dtype=s.get("dtype", "float32")) for s in case["inputs"]]
    x = inputs if len(inputs) > 1 else inputs[0]
    before = case.get("before")
    if before:
        x = getattr(keras.layers, before["class_name"])(**before["config"])(x)
    layer = getattr(keras.layers, case["class_name"])(**case["config"])
    return keras.Model(inputs, layer(x)), layer


def run(case):
    rng = np.random.default_rng(case["seed"])
    model, layer = build(case)
    for v in model.weights:
        if "int" in str(v.dtype):
            v.assign(np.asarray(rng.integers(0, 100, size=v.shape)).astype(v.dtype))
        elif v.path.endswith("variance"):
            v.assign(rng.uniform(0.05, 2.0, size=v.shape).astype("float32"))
        else:
            v.assign(rng.uniform(-1.0, 1.0, size=v.shape).astype("float32"))
    # Normalization snapshots adapted weights into its mean and variance when built (finalize_state).
    for each in model.layers:
        if hasattr(each, "finalize_state"):
            each.finalize_state()
    feeds = [make_input(s, rng) for s in case["inputs"]]
    args = feeds if len(feeds) > 1 else feeds[0]
    eager = np.asarray(model(args, training=False))
    function = np.asarray(tf.function(lambda *a: model(list(a) if len(a) > 1 else a[0], training=False))(*feeds))
    config = json.loads(model.to_json())
    weights = {each.name: [np.asarray(v.numpy()) for v in each.weights] for each in model.layers if each.weights}
    g = tf.Graph()
    with g.as_default():
        sm = keras.models.model_from_json(json.dumps(config))
        phs = [tf.compat.v1.placeholder(x.dtype, [None, *x.shape[1:]]) for x in feeds]
        out = sm(phs if len(phs) > 1 else phs[0], training=False)
        assigns = [v.value.assign(w) for name, ws in weights.items() for v, w in zip(sm.get_layer(name).weights, ws)]
        with tf.compat.v1.Session(graph=g) as sess:
            sess.run(assigns)
            session = sess.run(out, dict(zip(phs, feeds)))
    resolved, support = tfjs_support(config)
    arr = lambda a: {"shape": list(a.shape), "dtype": str(a.dtype), "data": np.asarray(a).ravel().tolist()}  # noqa: E731
    return {
        "id": case["id"],
        "config": config,
        "python_schema": support,
        "weights": {name: [arr(w) for w in ws] for name, ws in weights.items()},
        "inputs": [arr(x) for x in feeds],
        "eager": arr(eager),
        "function": arr(function),
        "session": arr(np.asarray(session)),
    }


if __name__ == "__main__":
    json.dump([run(c) for c in json.load(sys.stdin)], sys.stdout)

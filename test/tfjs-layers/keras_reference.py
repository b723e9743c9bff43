"""Reference outputs from real Keras 3 for the TF.js parity tests of src/tfjs-layers.

Reads a JSON list of cases on stdin, writes a JSON list of results on stdout. Each case names one
Keras layer (class name + Keras 3 config), optionally preceded by Masking or Embedding(mask_zero)
and given initial states; weights and inputs are drawn from a seeded generator here, so the test
sends nothing but the case. Float32 values pass through JSON exactly (a float32 is a double).

Outputs are computed three ways: eagerly (the layer's own op order, no graph optimizer), in a
tf.function, and in a tf.compat.v1.Session over an explicit graph (the project's default mode).
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402


def steps(case, n):
    """The padded steps of a row with n of them: trailing, or leading with padding_side "pre"."""
    t = case["timesteps"]
    return slice(0, n) if case.get("padding_side") == "pre" else slice(t - n, t)


def make_inputs(case, rng):
    b, t = case["batch"], case["timesteps"]
    if case.get("mask") == "embedding":
        ids = rng.integers(1, case["vocab"], size=(b, t)).astype("int32")
        for row, n in enumerate(case["padding"]):
            ids[row, steps(case, n)] = 0  # padding with 0, the masked id
        return ids
    x = rng.standard_normal((b, t, case["features"])).astype("float32")
    if case.get("mask") == "masking":
        for row, n in enumerate(case["padding"]):
            x[row, steps(case, n), :] = 0.0  # Masking(mask_value=0) masks these steps
    return x


def make_layer(class_name, config):
    """A built-in Keras layer from its class name and config; a wrapper's `layer` is one such pair."""
    config = dict(config)
    if "layer" in config:
        config["layer"] = make_layer(config["layer"]["class_name"], config["layer"]["config"])
    return getattr(keras.layers, class_name)(**config)


def build(case):
    b, t = case["batch"], case["timesteps"]
    if case.get("mask") == "embedding":
        inp = keras.Input(shape=(t,), batch_size=b, dtype="int32")
        pre = keras.layers.Embedding(case["vocab"], case["features"], mask_zero=True)
    else:
        inp = keras.Input(shape=(t, case["features"]), batch_size=b, dtype="float32")
        pre = keras.layers.Masking(mask_value=0.0) if case.get("mask") == "masking" else None
    layer = make_layer(case["class_name"], case["config"])
    h = pre(inp) if pre else inp
    states = [keras.Input(shape=(u,), batch_size=b) for u in case.get("initial_state", [])]
    out = layer(h, initial_state=states) if states else layer(h)
    return keras.Model([inp, *states], as_list(out)), pre, layer


def as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def run(case):
    rng = np.random.default_rng(case["seed"])
    model, pre, layer = build(case)
    scale = case.get("weight_scale", 0.5)
    for v in model.weights:
        v.assign(rng.uniform(-scale, scale, size=v.shape).astype("float32"))
    x = make_inputs(case, rng)
    states = [rng.standard_normal((case["batch"], u)).astype("float32") for u in case.get("initial_state", [])]
    feeds = [x, *states]
    eager = [o.numpy() for o in as_list(model(feeds, training=False))]
    fn = tf.function(lambda *a: model(list(a), training=False))
    function = [o.numpy() for o in as_list(fn(*feeds))]
    weights = [v.numpy() for v in model.weights]
    g = tf.Graph()
    with g.as_default():
        sm, _, _ = build(case)
        phs = [tf.compat.v1.placeholder(v.dtype, v.shape) for v in feeds]
        souts = sm(phs, training=False)
        souts = as_list(souts)
        assigns = [v.value.assign(w) for v, w in zip(sm.weights, weights)]
        with tf.compat.v1.Session(graph=g) as sess:
            sess.run(assigns)
            session = sess.run(souts, dict(zip(phs, feeds)))
    arr = lambda a: {"shape": list(a.shape), "data": np.asarray(a).ravel().tolist()}  # noqa: E731
    return {
        "id": case["id"],
        "inputs": [arr(v) for v in feeds],
        "pre_weights": [arr(v.numpy()) for v in (pre.weights if pre else [])],
        "layer_weights": [arr(v.numpy()) for v in layer.weights],
        "layer_weight_names": [v.path for v in layer.weights],
        "config": layer.get_config(),
        "eager": [arr(o) for o in eager],
        "function": [arr(o) for o in function],
        "session": [arr(o) for o in session],
    }


if __name__ == "__main__":
    json.dump([run(c) for c in json.load(sys.stdin)], sys.stdout)

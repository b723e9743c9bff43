"""Reference outputs from real Keras 3 for the TF.js parity tests of tfbridge's attention classes.

Reads a JSON list of cases on stdin, writes a JSON list of results on stdout. Each case is a small
functional model around one attention layer: its inputs (float sequences, or int ids through an
Embedding with mask_zero for Keras padding masks, or an attention mask of 0/1 ints, which Keras casts to bool), the layer's class and
config, and how it is called (which inputs are query, value, key, attention_mask; the call's flags).
Weights and inputs come from a seeded generator here. The result carries the model's own config
(model.to_json()), every layer's weights in Keras's order, the inputs, and the model's outputs computed
eagerly, in a tf.function and in a tf.compat.v1.Session over an explicit graph (the worker's default).
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402


def build(case):
    tensors, inputs = [], []
    for spec in case["inputs"]:
        if spec.get("vocab"):
            x = keras.Input(shape=spec["shape"], dtype="int32")
            inputs.append(x)
            tensors.append(keras.layers.Embedding(spec["vocab"], spec["dim"], mask_zero=True)(x))
        else:
            x = keras.Input(shape=spec["shape"], dtype=spec.get("dtype", "float32"))
            inputs.append(x)
            tensors.append(x)
    layer = getattr(keras.layers, case["class_name"])(**case["config"])
    call = case["call"]
    flags = {k: call[k] for k in ("use_causal_mask", "return_attention_scores") if k in call}
    if case["class_name"] == "MultiHeadAttention":
        kwargs = {k: tensors[call[k]] for k in ("key", "attention_mask") if k in call}
        out = layer(tensors[call["query"]], tensors[call["value"]], **kwargs, **flags)
    else:
        out = layer([tensors[i] for i in call["inputs"]], **flags)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    return keras.Model(inputs, outs)


def as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def make_inputs(case, rng):
    feeds = []
    for spec in case["inputs"]:
        shape = [case["batch"], *spec["shape"]]
        if spec.get("vocab"):
            ids = rng.integers(1, spec["vocab"], size=shape).astype("int32")
            for row, n in enumerate(spec.get("padding", [])):
                if n:
                    ids[row, -n:] = 0
            feeds.append(ids)
        elif spec.get("dtype") == "int32":
            feeds.append((rng.random(shape) < 0.7).astype("int32"))  # an attention mask: 1 attends, 0 not
        else:
            feeds.append(rng.standard_normal(shape).astype("float32"))
    return feeds


def run(case):
    rng = np.random.default_rng(case["seed"])
    model = build(case)
    scale = case.get("weight_scale", 0.5)
    for v in model.weights:
        v.assign(rng.uniform(-scale, scale, size=v.shape).astype("float32"))
    feeds = make_inputs(case, rng)
    eager = [np.asarray(o) for o in as_list(model(feeds, training=False))]
    fn = tf.function(lambda *a: model(list(a), training=False))
    function = [np.asarray(o) for o in as_list(fn(*feeds))]
    weights = [v.numpy() for v in model.weights]
    g = tf.Graph()
    with g.as_default():
        sm = build(case)
        phs = [tf.compat.v1.placeholder(tf.as_dtype(x.dtype), (None, *x.shape[1:])) for x in feeds]
        souts = sm(phs, training=False)
        assigns = [v.value.assign(w) for v, w in zip(sm.weights, weights)]
        with tf.compat.v1.Session(graph=g) as sess:
            sess.run(assigns)
            session = sess.run(as_list(souts), dict(zip(phs, feeds)))
    arr = lambda a: {"shape": list(a.shape), "dtype": str(a.dtype), "data": np.asarray(a).astype("float64" if a.dtype != bool else "int32").ravel().tolist()}  # noqa: E731
    return {
        "id": case["id"],
        "config": json.loads(model.to_json()),
        "weights": {l.name: [arr(w) for w in l.get_weights()] for l in model.layers if l.weights},
        "weight_names": {l.name: [w.path for w in l.weights] for l in model.layers if l.weights},
        "inputs": [arr(x) for x in feeds],
        "eager": [arr(o) for o in eager],
        "function": [arr(o) for o in function],
        "session": [arr(o) for o in session],
    }


if __name__ == "__main__":
    json.dump([run(c) for c in json.load(sys.stdin)], sys.stdout)

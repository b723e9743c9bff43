"""Writes keras-attention-tests.json: the values Keras's own attention layer tests pin, with their cases.

The sibling of extract_keras_goldens.py (the RNNs), for keras/src/layers/attention/*_test.py in the
project's venv: Attention and AdditiveAttention's correctness and mask tests, and MultiHeadAttention's
test_correctness (without flash attention, which the TensorFlow backend does not have). The tests run
with two hooks: every top-level call of an attention layer is recorded (resolved config, weights by
name, the call's query/value/key, masks and flags, its outputs), and every assertAllClose whose expected
value is an array is paired with the call's output it checks. Keras's MultiHeadAttention test computes
in float16 (its dtype); the config keeps that, and the TF.js half says what it does with it.
Run: .venv/bin/python test/golden/extract_attention_goldens.py
"""

import inspect
import json
import os
import sys
import unittest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras.src.layers.attention import additive_attention_test, attention_test, multi_head_attention_test  # noqa: E402
from keras.src.layers.layer import Layer  # noqa: E402
from keras.src.testing import test_case  # noqa: E402

TESTS = {
    attention_test: ("test_attention_correctness", "test_attention_with_mask"),
    additive_attention_test: ("test_attention_correctness", "test_attention_with_mask"),
    multi_head_attention_test: ("test_correctness_disable_flash_attention",),
}
ATTENTION = (keras.layers.Attention, keras.layers.MultiHeadAttention)

calls, cases = [], []
depth = 0
current = {"test": None, "file": None}


def array(a):
    a = np.asarray(a)
    if a.dtype == bool:
        return {"shape": list(a.shape), "dtype": "bool", "data": a.ravel().tolist()}
    return {"shape": list(a.shape), "dtype": "float32", "data": a.astype("float32").ravel().tolist()}


original_call = Layer.__call__


def recording_call(self, *args, **kwargs):
    global depth
    depth += 1
    try:
        out = original_call(self, *args, **kwargs)
    finally:
        depth -= 1
    if depth == 0 and isinstance(self, ATTENTION):
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        calls.append({"layer": self, "args": args, "kwargs": kwargs, "outputs": [np.asarray(o) for o in outs]})
    return out


original_assert = test_case.TestCase.assertAllClose


def recording_assert(self, actual, desired, *args, **kwargs):
    bound = inspect.signature(original_assert).bind(self, actual, desired, *args, **kwargs)
    bound.apply_defaults()
    if isinstance(desired, (np.ndarray, list)) and calls:
        record(np.asarray(actual), np.asarray(desired, dtype="float32"), bound.arguments, inspect.stack()[1].lineno)
    return original_assert(self, actual, desired, *args, **kwargs)


def call_inputs(layer, args, kwargs):
    """The call's tensors by role (query, value, key: key null when the call had none) and masks."""
    if isinstance(layer, keras.layers.MultiHeadAttention):
        names = ("query", "value", "key")
        given = dict(zip(names, args), **{k: v for k, v in kwargs.items() if k in names})
        return {n: None if given.get(n) is None else array(given[n]) for n in names}, None
    tensors = list(args[0] if args else kwargs["inputs"])
    mask = kwargs.get("mask")
    return (
        {"query": array(tensors[0]), "value": array(tensors[1]), "key": array(tensors[2]) if len(tensors) > 2 else None},
        None if mask is None else [None if m is None else array(m) for m in mask],
    )


def record(actual, desired, arguments, line):
    call = calls[-1]
    layer = call["layer"]
    where = next((i for i, o in enumerate(call["outputs"]) if o.shape == actual.shape and np.array_equal(o, actual)), None)
    if where is None:
        raise RuntimeError(f"{current['test']} line {line}: cannot tell which output is checked")
    tensors, mask = call_inputs(layer, call["args"], call["kwargs"])
    weights = []
    for v in layer.weights:
        value = np.asarray(v.numpy()).astype("float32")
        entry = {"name": v.path, "shape": list(value.shape)}
        if value.size and np.all(value == value.ravel()[0]):
            entry["fill"] = float(value.ravel()[0])
        else:
            entry["data"] = value.ravel().tolist()
        weights.append(entry)
    flags = {k: bool(call["kwargs"].get(k, False)) for k in ("use_causal_mask", "return_attention_scores")}
    cases.append(
        {
            "id": f"{current['file'].split('/')[-1]}::{current['test']} (line {line})",
            "source": {"repository": "keras-team/keras", "version": keras.__version__, "file": current["file"], "test": current["test"], "line": line},
            "class_name": layer.__class__.__name__,
            "config": layer.get_config(),
            "weights": weights,
            "inputs": {**tensors, "mask": mask},
            "call": flags,
            "expected": {"output": where, **array(desired)},
            "tolerance": {"atol": float(arguments["atol"]), "rtol": float(arguments["rtol"])},
        }
    )


def main():
    Layer.__call__ = recording_call
    test_case.TestCase.assertAllClose = recording_assert
    loader = unittest.TestLoader()
    for module, names in TESTS.items():
        for cls in [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, unittest.TestCase)]:
            for test in loader.loadTestsFromTestCase(cls):
                name = test.id().split(".")[-1]
                if name not in names:
                    continue
                current["test"] = f"{cls.__name__}.{name}"
                current["file"] = "keras/src/layers/attention/" + module.__name__.split(".")[-1] + ".py"
                calls.clear()
                result = unittest.TestResult()
                test.run(result)
                for _, trace in result.errors + result.failures:
                    raise RuntimeError(f"{current['test']} failed under the hooks:\n{trace}")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras-attention-tests.json")
    fixture = {
        "description": "Keras 3's own attention layer tests: constant weights, inputs and the expected values their "
        "assertAllClose calls pin, one case per assertion. Written by extract_attention_goldens.py.",
        "format": {
            "class_name": "the Keras 3 layer class",
            "config": "the layer's resolved Keras 3 config (layer.get_config()), every argument explicit",
            "weights": "in Keras's layer.weights order: name, shape, and either fill (every element) or data (row-major)",
            "inputs": "the call's query, value and key (null: the call had none), and mask (Attention's [query, value] masks, or null)",
            "call": "the call's use_causal_mask and return_attention_scores",
            "expected": "output: which of the call's outputs (output, then scores); shape, data",
            "tolerance": "the atol and rtol Keras's assertAllClose used",
        },
        "cases": cases,
    }
    with open(out, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()

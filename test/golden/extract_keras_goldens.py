"""Writes keras-layer-tests.json: the exact values Keras's own RNN layer tests pin, with their cases.

Keras's tests (keras/src/layers/rnn/*_test.py, shipped in the keras wheel of the project's venv) build
a layer with constant initializers, call it on np.arange inputs and assertAllClose the result against
literal arrays. Rather than retyping those literals, this runs the tests with two hooks: every
top-level call of an RNN or Bidirectional layer is recorded (resolved config, weights by name, the
call's inputs, initial_state and mask, its outputs), and every assertAllClose whose expected value is
a literal array is paired with the call it checks (found by matching `actual` against that call's
outputs, or one batch row of them). Stateful tests are left out: TF.js's stateful RNNs are another
feature. Run: .venv/bin/python test/golden/extract_keras_goldens.py
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
from keras.src.layers.layer import Layer  # noqa: E402
from keras.src.layers.rnn import bidirectional_test, gru_test, lstm_test, simple_rnn_test  # noqa: E402
from keras.src.testing import test_case  # noqa: E402

MODULES = [gru_test, lstm_test, simple_rnn_test, bidirectional_test]
TESTS = ("test_correctness", "test_pass_initial_state", "test_pass_return_state", "test_masking", "test_return_state")
RECURRENT = (keras.layers.RNN, keras.layers.Bidirectional)

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
    if depth == 0 and isinstance(self, RECURRENT):
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


def select(actual, outputs):
    for i, o in enumerate(outputs):
        if o.shape == actual.shape and np.array_equal(o, actual):
            return {"output": i}
    for i, o in enumerate(outputs):
        for row in range(o.shape[0]):
            if o[row].shape == actual.shape and np.array_equal(o[row], actual):
                return {"output": i, "batch_index": row}
    return None


def record(actual, desired, arguments, line):
    call = calls[-1]
    layer = call["layer"]
    config = layer.get_config()
    inner = config.get("layer", {}).get("config", config)
    if inner.get("stateful"):
        return
    where = select(actual, call["outputs"])
    if where is None:
        raise RuntimeError(f"{current['test']} line {line}: cannot tell which output is checked")
    sequences = call["args"][0] if call["args"] else call["kwargs"]["sequences"]
    initial_state = call["kwargs"].get("initial_state")
    if initial_state is not None and not isinstance(initial_state, (list, tuple)):
        initial_state = [initial_state]  # one state passed bare, as Keras allows
    mask = call["kwargs"].get("mask")
    weights = []
    for v in layer.weights:
        value = np.asarray(v.numpy())
        entry = {"name": v.path, "shape": list(value.shape)}
        if value.size and np.all(value == value.ravel()[0]):
            entry["fill"] = float(value.ravel()[0])
        else:
            entry["data"] = value.ravel().tolist()
        weights.append(entry)
    cases.append(
        {
            "id": f"{current['file'].split('/')[-1]}::{current['test']} (line {line})",
            "source": {
                "repository": "keras-team/keras",
                "version": keras.__version__,
                "file": current["file"],
                "test": current["test"],
                "line": line,
            },
            "class_name": layer.__class__.__name__,
            "config": config,
            "weights": weights,
            "inputs": {
                "sequences": array(sequences),
                "initial_state": None if initial_state is None else [array(s) for s in initial_state],
                "mask": None if mask is None else array(mask),
            },
            "expected": {**where, **array(desired)},
            "tolerance": {"atol": float(arguments["atol"]), "rtol": float(arguments["rtol"])},
        }
    )


def main():
    Layer.__call__ = recording_call
    test_case.TestCase.assertAllClose = recording_assert
    loader = unittest.TestLoader()
    for module in MODULES:
        for cls in [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, unittest.TestCase)]:
            for test in loader.loadTestsFromTestCase(cls):
                name = test.id().split(".")[-1]
                if not name.startswith(TESTS):
                    continue
                current["test"] = f"{cls.__name__}.{name}"
                current["file"] = "keras/src/layers/rnn/" + module.__name__.split(".")[-1] + ".py"
                calls.clear()
                result = unittest.TestResult()
                test.run(result)
                for _, trace in result.errors + result.failures:
                    raise RuntimeError(f"{current['test']} failed under the hooks:\n{trace}")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras-layer-tests.json")
    fixture = {
        "description": "Keras 3's own RNN layer tests: constant weights, inputs and the literal expected values "
        "their assertAllClose calls pin, one case per assertion. Written by extract_keras_goldens.py.",
        "format": {
            "class_name": "the Keras 3 layer class",
            "config": "the layer's resolved Keras 3 config (layer.get_config()), every argument explicit",
            "weights": "in Keras's layer.weights order: name, shape, and either fill (every element) or data (row-major)",
            "inputs": "the call's sequences, initial_state (list or null) and mask (bool, or null)",
            "expected": "output: which of the call's outputs (output, then states); batch_index: when Keras checked one batch row; shape, data",
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

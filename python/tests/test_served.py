"""Served models: loaded from bytes by content key, idempotently, warmed, run exactly when split."""

import json

import keras
import numpy as np
import pytest

from tfbridge_worker.errors import BadRequest, ModelError
from tfbridge_worker.ops import Ops

L = keras.layers
KEY = "ab" * 32


def small_model() -> keras.Model:
    inp = keras.Input((5, 2), name="x")
    return keras.Model(inp, L.Dense(3, name="out")(L.LSTM(4, name="lstm")(inp)))


def file_payload(tmp_path, key=KEY):
    path = tmp_path / "m.keras"
    small_model().save(path)
    data = np.frombuffer(path.read_bytes(), np.uint8)
    return {"key": key, "source": {"kind": "files", "root": "m.keras", "files": ["m.keras"]}, "sourceArrays": 1, "warmup": {"modes": ["session"], "given": 0}}, [data]


def test_bytes_load_once_by_key_and_run(tmp_path):
    ops = Ops()
    payload, arrays = file_payload(tmp_path)
    first, _, _ = ops("serve.load", payload, arrays)
    again, _, _ = ops("serve.load", payload, arrays)
    assert (first["loaded"], again["loaded"]) == (True, False)
    assert first["inputs"] == [{"name": "x", "shape": [None, 5, 2], "dtype": "float32"}]
    x = np.random.default_rng(0).uniform(-1, 1, (3, 5, 2)).astype("float32")
    _, out, names = ops("serve.predict", {"key": KEY}, [x])
    assert names == ["out"] and out[0].shape == (3, 3)
    assert ops("serve.unload", {"key": KEY}, [])[0] == {"unloaded": True}
    with pytest.raises(ModelError, match="not loaded on this worker"):
        ops("serve.predict", {"key": KEY}, [x])


def test_split_runs_each_request_alone():
    ops = Ops()
    config = json.loads(small_model().to_json())
    ops("serve.load", {"key": KEY, "source": {"kind": "config", "config": config, "seed": 1}, "sourceArrays": 0}, [])
    rng = np.random.default_rng(1)
    parts = [rng.uniform(-1, 1, (n, 5, 2)).astype("float32") for n in (1, 3, 2)]
    alone = [ops("serve.predict", {"key": KEY}, [p])[1][0] for p in parts]
    _, merged, _ = ops("serve.predict", {"key": KEY, "split": [1, 3, 2]}, [np.concatenate(parts)])
    np.testing.assert_array_equal(merged[0], np.concatenate(alone))
    with pytest.raises(BadRequest, match="split"):
        ops("serve.predict", {"key": KEY, "split": [1, 1]}, [np.concatenate(parts)])


def test_bad_payloads_are_refused_by_name(tmp_path):
    ops = Ops()
    payload, arrays = file_payload(tmp_path)
    with pytest.raises(BadRequest, match="relative path"):
        ops("serve.load", {**payload, "source": {**payload["source"], "files": ["../evil.keras"]}}, arrays)
    with pytest.raises(BadRequest, match="content hash"):
        ops("serve.load", {**payload, "key": "../x"}, arrays)
    with pytest.raises(ModelError, match="not a .keras file"):
        ops("serve.load", payload, [np.frombuffer(b"not a zip", np.uint8)])
    # A request queued behind the failed load gets the load's own error, not a bare "not loaded".
    with pytest.raises(ModelError, match="not a .keras file"):
        ops("serve.predict", {"key": KEY}, [np.ones((1, 5, 2), "float32")])
    assert len(ops.served) == 0

"""Any model Keras 3 loads in safe mode runs in the worker: nested models, shared layers, operation
nodes; per-layer outputs named by path; code-carrying configs refused before Keras reads them."""

import json
import sys
import zipfile

import keras
import numpy as np
import pytest

from tfbridge_worker.errors import ModelError
from tfbridge_worker.models.files import load_model_file
from tfbridge_worker.models.model import MODES, KerasModel
from tfbridge_worker.models.refusal import MAX_MESSAGE_CHARS
from tfbridge_worker.models.safety import refuse_code

L = keras.layers
# Keras's own predict and the worker's may order float sums differently (batching, Grappler).
ATOL = 1e-5


def transfer_model() -> keras.Model:
    """The transfer-learning shape: a whole application as one layer of a new model."""
    base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, include_top=False)
    image = keras.Input((32, 32, 3), name="image")
    x = L.GlobalAveragePooling2D(name="pool")(base(image))
    return keras.Model(image, L.Dense(3, name="head")(x))


def transformer_block() -> keras.Model:
    tokens = keras.Input((6, 8), name="tokens")
    attended = L.MultiHeadAttention(2, 4, name="attention")(tokens, tokens)
    x = L.LayerNormalization(name="norm")(tokens + attended)  # `+` is an operation node (keras.src.ops.numpy)
    return keras.Model(tokens, L.Dense(8, name="ffn")(x))


def shared_layer() -> keras.Model:
    x = keras.Input((4,), name="x")
    dense = L.Dense(4, activation="tanh", name="dense")
    return keras.Model(x, dense(dense(x)))


def masked_nested() -> keras.Model:
    """An Embedding's mask must reach the LSTM inside the nested model."""
    inner_in = keras.Input((5, 3))
    inner = keras.Model(inner_in, L.LSTM(2, name="lstm")(inner_in), name="encoder")
    ids = keras.Input((5,), dtype="int32", name="ids")
    return keras.Model(ids, inner(L.Embedding(10, 3, mask_zero=True, name="embed")(ids)))


def _inputs(model: keras.Model) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for t in model.inputs:
        shape = [2, *t.shape[1:]]
        out.append(rng.integers(1, 10, shape).astype("int32") if t.dtype == "int32" else rng.uniform(-1, 1, shape).astype("float32"))
    return out


def _saved(model: keras.Model, tmp_path, name: str = "m.keras") -> KerasModel:
    path = tmp_path / name
    model.save(path)
    return load_model_file(str(path))


@pytest.mark.parametrize("build", [transfer_model, transformer_block, shared_layer])
def test_loaded_models_predict_what_keras_predicts_in_every_mode(build, tmp_path):
    keras_model = build()
    model = _saved(keras_model, tmp_path)
    xs = _inputs(keras_model)
    want = keras_model.predict(xs, verbose=0)
    for mode in MODES:
        names, (got,) = model.predict(xs, mode)
        assert names == [o["name"] for o in model.outputs]
        assert np.abs(got - want).max() <= ATOL, mode
        layer_names, layers = model.predict(xs, mode, "layers")
        assert layer_names == [entry["name"] for entry in model.layer_outputs]
        assert np.abs(layers[layer_names.index(names[0])] - want).max() <= ATOL, mode


def test_layer_outputs_are_named_by_path(tmp_path):
    nested = _saved(transfer_model(), tmp_path, "nested.keras")
    names = [entry["name"] for entry in nested.layer_outputs]
    assert names[:2] == ["mobilenetv2_0.35_32/Conv1", "mobilenetv2_0.35_32/bn_Conv1"]
    assert names[-3:] == ["mobilenetv2_0.35_32", "pool", "head"]
    assert nested.layer_outputs[0]["class"] == "Conv2D" and nested.tfjs["supported"] is True

    shared = _saved(shared_layer(), tmp_path, "shared.keras")
    assert [entry["name"] for entry in shared.layer_outputs] == ["dense", "dense@1"]
    assert shared.outputs[0]["name"] == "dense@1"
    x = np.array([[0.5, -1, 2, 0]], "float32")
    _, (first, second) = shared.predict([x], "session", "layers")
    dense = shared.keras.get_layer("dense")
    np.testing.assert_allclose(first, np.asarray(dense(x)), atol=ATOL)
    np.testing.assert_allclose(second, np.asarray(dense(dense(x))), atol=ATOL)

    block = _saved(transformer_block(), tmp_path, "block.keras")
    names = [entry["name"] for entry in block.layer_outputs]
    assert names[0] == "attention" and names[2:] == ["norm", "ffn"] and names[1].startswith("add")  # `+`: Keras numbers op names
    assert block.layer_outputs[1]["class"] == "Add"
    assert block.tfjs["supported"] is True  # MultiHeadAttention and the `+` node have a twin


def test_masks_flow_into_a_nested_model():
    keras_model = masked_nested()
    model = KerasModel.from_config(json.loads(keras_model.to_json()), {l.name: l.get_weights() for l in keras_model.layers if l.weights})
    x = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 7]], "int32")
    want = np.asarray(keras_model(x))
    # The same vectors as a plain array carry no mask: the padded row then computes something else.
    unmasked = np.asarray(keras_model.get_layer("encoder")(keras_model.get_layer("embed").embeddings.numpy()[x]))
    assert np.abs(want - unmasked).max() > 1e-3
    for mode in MODES:
        np.testing.assert_allclose(model.predict([x], mode)[1][0], want, atol=ATOL)
        names, layers = model.predict([x], mode, "layers")
        np.testing.assert_allclose(layers[names.index("encoder/lstm")], want, atol=ATOL)


def _with_config(source, target, edit) -> None:
    """A copy of the .keras file `source` with its config.json changed by `edit`."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            dst.writestr(item, data)


def _inner_layer(config: dict, name: str) -> dict:
    nested = next(l for l in config["config"]["layers"] if l["class_name"] == "Functional")
    return next(l for l in nested["config"]["layers"] if l["config"]["name"] == name)


def test_code_carrying_configs_are_refused_before_keras_reads_them(tmp_path):
    good = tmp_path / "good.keras"
    transfer_model().save(good)
    marker = tmp_path / "imported"
    (tmp_path / "tfbridge_evil.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    sys.path.insert(0, str(tmp_path))
    try:
        cases = {
            "nested-lambda": lambda c: _inner_layer(c, "Conv1").update(class_name="Lambda"),
            "custom-module": lambda c: _inner_layer(c, "Conv1").update(module="tfbridge_evil", class_name="Evil", registered_name="evil>Evil"),
            # A data-wrapper name (__x__) from a foreign module: the module is what Keras would import.
            "dunder-module": lambda c: _inner_layer(c, "Conv1").update(module="tfbridge_evil", class_name="__typespec__"),
            "registered": lambda c: _inner_layer(c, "Conv1").update(registered_name="my_package>Conv2D"),
            "download": lambda c: _inner_layer(c, "Conv1")["config"].update(
                activation={"module": "keras.utils", "class_name": "function", "config": "get_file", "registered_name": "function"}),
        }
        for name, edit in cases.items():
            path = tmp_path / f"{name}.keras"
            _with_config(good, path, edit)
            with pytest.raises(ModelError) as info:
                load_model_file(str(path))
            assert info.value.details["file"] == str(path) and info.value.details["layer"] == "Conv1", name
            assert "nothing in it ran" in str(info.value)
        assert not marker.exists()
    finally:
        sys.path.remove(str(tmp_path))


def test_a_file_keras_cannot_load_is_a_model_error_naming_it(tmp_path):
    good = tmp_path / "good.keras"
    shared_layer().save(good)
    broken = tmp_path / "broken.keras"
    _with_config(good, broken, lambda c: c["config"]["layers"][1]["config"].update(units="four"))
    with pytest.raises(ModelError, match="Keras could not load it") as info:
        load_model_file(str(broken))
    assert info.value.details["file"] == str(broken) and str(broken) in str(info.value)
    pool_copy = load_model_file(str(good), shown_as="/home/me/model.keras")
    assert pool_copy.source == "/home/me/model.keras"
    with pytest.raises(ModelError) as info:
        load_model_file(str(broken), shown_as="/home/me/model.keras")
    assert str(broken) not in str(info.value) and info.value.details["file"] == "/home/me/model.keras"


def test_long_refusals_name_each_class_once_and_stay_short():
    layers = [{"class_name": "Lambda", "config": {"name": f"code_{i}"}} for i in range(400)]
    layers += [{"class_name": "Mine", "module": "my.module", "config": {"name": f"mine_{i}"}} for i in range(300)]
    with pytest.raises(ModelError) as info:
        refuse_code({"class_name": "Functional", "config": {"layers": layers}}, "big.keras")
    message = str(info.value)
    assert len(message) <= MAX_MESSAGE_CHARS and "Lambda ×400, Mine ×300" in message
    assert len(info.value.details["problems"]) == 700

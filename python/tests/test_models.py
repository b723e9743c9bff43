"""Whole models in the worker: schema checks, safe loading of user files, and the three run modes."""

import json
import zipfile

import keras
import numpy as np
import pytest

from tfbridge_worker.errors import ModelError
from tfbridge_worker.models.files import load_model_file
from tfbridge_worker.models.model import KerasModel
from tfbridge_worker.models.schema import check_model_config

L = keras.layers


def encoder_decoder() -> keras.Model:
    """The reference case of several inputs and outputs: an encoder whose states seed a decoder."""
    enc_in = keras.Input((6, 3), name="encoder_in")
    dec_in = keras.Input((5, 2), name="decoder_in")
    _, h, c = L.LSTM(4, return_state=True, name="encoder")(enc_in)
    seq = L.LSTM(4, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    out = L.TimeDistributed(L.Dense(3, activation="softmax"), name="head")(seq)
    return keras.Model([enc_in, dec_in], [out, h], name="seq2seq")


def text_classifier() -> keras.Model:
    ids = keras.Input((7,), dtype="int32", name="ids")
    x = L.Embedding(20, 5, mask_zero=True, name="embed")(ids)
    x = L.Bidirectional(L.GRU(3), name="bigru")(x)
    return keras.Model(ids, L.Dense(2, activation="sigmoid", name="out")(x))


def config_of(model: keras.Model) -> dict:
    return json.loads(model.to_json())


@pytest.mark.parametrize("mode", ["session", "eager", "function"])
def test_modes_agree_with_keras_itself(mode):
    keras_model = encoder_decoder()
    weights = {l.name: l.get_weights() for l in keras_model.layers if l.weights}
    model = KerasModel.from_config(config_of(keras_model), weights)
    rng = np.random.default_rng(0)
    xs = [rng.uniform(-1, 1, (2, 6, 3)).astype("float32"), rng.uniform(-1, 1, (2, 5, 2)).astype("float32")]
    names, outputs = model.predict(xs, mode)
    expected = [np.asarray(t) for t in keras_model(xs)]
    assert names == ["head", "encoder:1"]
    for got, want in zip(outputs, expected):
        np.testing.assert_array_equal(got, want)


def test_layer_outputs_are_named_and_end_with_the_model_outputs():
    model = KerasModel.from_config(config_of(encoder_decoder()), seed=3)
    xs = [np.ones((1, 6, 3), "float32"), np.ones((1, 5, 2), "float32")]
    names, layers = model.predict(xs, "session", "layers")
    assert names == ["encoder", "encoder:1", "encoder:2", "decoder", "head"]
    _, final = model.predict(xs, "session")
    np.testing.assert_array_equal(layers[names.index("head")], final[0])
    np.testing.assert_array_equal(layers[names.index("encoder:1")], final[1])


def test_seeded_builds_are_reproducible():
    a = KerasModel.from_config(config_of(text_classifier()), seed=7)
    b = KerasModel.from_config(config_of(text_classifier()), seed=7)
    for layer in a.weights:
        for x, y in zip(a.weights[layer], b.weights[layer]):
            np.testing.assert_array_equal(x, y)


def test_every_unsupported_layer_is_named_at_once():
    inp = keras.Input((4,))
    x = L.Dense(3, name="ok")(inp)
    x = L.UnitNormalization(name="unit")(x)
    x = L.Dense(2, name="big", kernel_initializer="zeros")(x)
    config = config_of(keras.Model(inp, x))
    config["config"]["layers"][3]["config"]["lora_rank"] = 4  # an argument outside the schema
    config["config"]["layers"].append({"class_name": "Lambda", "config": {"name": "code"}, "inbound_nodes": []})
    with pytest.raises(ModelError) as info:
        check_model_config(config, "m.keras")
    problems = info.value.details["problems"]
    assert [(p["layer"], p["class"]) for p in problems] == [("unit", "UnitNormalization"), ("big", "Dense"), ("code", "Lambda")]
    assert problems[1]["field"] == "lora_rank"
    assert "safe_mode" in problems[2]["reason"]
    assert info.value.details["file"] == "m.keras"


def test_defaults_are_made_explicit():
    config = {"class_name": "Sequential", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 5, 2]}},
        {"class_name": "GRU", "config": {"units": 3, "name": "g"}},
    ]}}
    resolved = check_model_config(config)
    gru = resolved["config"]["layers"][1]["config"]
    assert gru["reset_after"] is True and gru["recurrent_activation"] == "sigmoid" and gru["return_sequences"] is False


def test_bad_weights_and_inputs_are_named():
    config = config_of(text_classifier())
    with pytest.raises(ModelError, match="layer out has 2 weight"):
        KerasModel.from_config(config, {"embed": [np.zeros((20, 5), "float32")], "out": [np.zeros((6, 2), "float32")],
                                        "bigru": [np.zeros(s, "float32") for s in [(5, 9), (3, 9), (2, 9)] * 2]})
    model = KerasModel.from_config(config, seed=1)
    with pytest.raises(ModelError, match="ids must be in") as info:
        model.predict([np.full((1, 7), 20, "int32")])
    assert info.value.details == {"input": "ids", "layer": "embed"}
    with pytest.raises(ModelError, match=r"input ids must have shape \[None, 7\]"):
        model.predict([np.zeros((1, 8), "int32")])
    with pytest.raises(ModelError, match="must be int32"):
        model.predict([np.zeros((1, 7), "float32")])


def test_files_load_safely_and_refuse_by_name(tmp_path):
    good = tmp_path / "clf.keras"
    text_classifier().save(good)
    model = load_model_file(str(good))
    assert [i["name"] for i in model.inputs] == ["ids"] and model.source == str(good)

    with pytest.raises(ModelError, match="no such file"):
        load_model_file(str(tmp_path / "missing.keras"))
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="not a zip"):
        load_model_file(str(tmp_path / "junk.keras"))
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ModelError):
        load_model_file(str(truncated))

    # A Lambda in the file is refused from its config alone: Keras never sees it, so no code runs.
    lam = tmp_path / "lambda.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(lam, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item == "config.json":
                config = json.loads(data)
                config["config"]["layers"][2]["class_name"] = "Lambda"
                data = json.dumps(config).encode()
            dst.writestr(item, data)
    with pytest.raises(ModelError) as info:
        load_model_file(str(lam))
    assert info.value.details["problems"][0]["class"] == "Lambda"
    assert info.value.details["file"] == str(lam)


def test_h5_files_load(tmp_path):
    path = tmp_path / "m.h5"
    keras_model = encoder_decoder()
    keras_model.save(path)
    model = load_model_file(str(path))
    xs = [np.full((1, 6, 3), 0.5, "float32"), np.full((1, 5, 2), -0.5, "float32")]
    _, outputs = model.predict(xs)
    np.testing.assert_array_equal(outputs[0], np.asarray(keras_model(xs)[0]))


def test_hand_written_configs_need_no_module():
    """A config written by hand (no "module" keys) builds: Keras 3 cannot find "Functional" without one."""
    config = {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, 3]}, "name": "x", "inbound_nodes": []},
        {"class_name": "Dense", "config": {"name": "d", "units": 2}, "name": "d", "inbound_nodes": [
            {"args": [{"class_name": "__keras_tensor__", "config": {"shape": [], "dtype": "float32", "keras_history": ["x", 0, 0]}}], "kwargs": {}}]},
    ], "input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0]]}}
    model = KerasModel.from_config(config, seed=0)
    assert model.predict([np.ones((1, 3), "float32")])[1][0].shape == (1, 2)


def test_mask_operations_are_accepted_only_as_keras_writes_them():
    config = config_of(text_classifier())
    assert any(layer["class_name"] == "NotEqual" for layer in config["config"]["layers"])
    check_model_config(config)
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "NotEqual":
            layer["module"] = "my.own.ops"
    with pytest.raises(ModelError, match="NotEqual"):
        check_model_config(config)


def test_savedmodel_directories_run_their_signature(tmp_path):
    keras_model = encoder_decoder()
    keras_model.export(str(tmp_path / "exported"))
    model = load_model_file(str(tmp_path / "exported"))
    assert model.config is None and model.describe()["layers"] == []
    assert [i["name"] for i in model.inputs] == ["decoder_in", "encoder_in"]
    xs = [np.full((2, 5, 2), -0.25, "float32"), np.full((2, 6, 3), 0.5, "float32")]
    names, session = model.predict(xs, "session")
    _, function = model.predict(xs, "function")
    expected = np.asarray(keras_model([xs[1], xs[0]])[0])
    assert len(names) == 2
    by_shape = {o.shape: o for o in session}
    np.testing.assert_allclose(by_shape[(2, 5, 3)], expected, atol=1e-6)
    for a, b in zip(session, function):
        np.testing.assert_allclose(a, b, atol=1e-6)
    with pytest.raises(ModelError, match="without Keras layers"):
        model.predict(xs, "session", "layers")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a SavedModel"):
        load_model_file(str(tmp_path / "empty"))


def test_keras_mask_operations_of_merges_have_a_twin_and_value_operations_run_in_python_only():
    """Keras 3 records a masked merge's mask math as op nodes (ExpandDims, ZerosLike, LogicalOr, an ops
    Concatenate, Any); the twin computes those as masks. An op computing a value (keras.ops.add) has
    no TF.js twin, but the model runs in Python."""
    ids = keras.Input((6,), dtype="int32")
    e = L.Embedding(12, 4, mask_zero=True)(ids)
    a, b = L.Dense(3)(e), L.SimpleRNN(3, return_sequences=True)(e)
    merged = L.Concatenate()([L.Maximum()([a, b]), L.Multiply()([a, b])])
    masked = keras.Model(ids, L.LSTM(2)(merged))
    config = config_of(masked)
    assert {"ExpandDims", "LogicalOr", "Any"} <= {l["class_name"] for l in config["config"]["layers"]}
    model = KerasModel.from_config(config, {l.name: l.get_weights() for l in masked.layers if l.weights})
    x = np.array([[1, 2, 3, 0, 0, 0], [4, 5, 6, 7, 8, 9]], "int32")
    np.testing.assert_array_equal(model.predict([x])[1][0], np.asarray(masked(x)))

    inp = keras.Input((3,))
    check_model_config(config_of(keras.Model(inp, L.Dense(2)(keras.ops.add(inp, inp)))))  # layers.json operations: has a twin
    value_op = keras.Model(inp, L.Dense(2)(keras.ops.cumsum(inp, axis=-1)))
    with pytest.raises(ModelError) as info:
        check_model_config(config_of(value_op))
    assert "no counterpart" in info.value.details["problems"][0]["reason"] and "layers.json" not in str(info.value)
    runs = KerasModel.from_config(config_of(value_op), {l.name: l.get_weights() for l in value_op.layers if l.weights})
    assert runs.tfjs["supported"] is False and [p["class"] for p in runs.tfjs["problems"]] == ["Cumsum"]
    x = np.ones((1, 3), "float32")
    np.testing.assert_array_equal(runs.predict([x])[1][0], np.asarray(value_op(x)))


def test_the_unoptimized_session_runs_the_same_weights_without_graph_rewrites():
    """parity's control run: same weights and graph, Grappler and the classic optimizer off."""
    model = KerasModel.from_config(config_of(encoder_decoder()), seed=3)
    x = [np.random.default_rng(0).standard_normal((2, 6, 3), dtype=np.float32), np.ones((2, 5, 2), np.float32)]
    _, optimized = model.predict(x, "session", "layers")
    names, plain = model.predict(x, "session-unoptimized", "layers")
    assert model.is_built("session-unoptimized", "layers") and names == [o["name"] for o in model.layer_outputs]
    for a, b in zip(optimized, plain):
        np.testing.assert_allclose(a, b, atol=1e-6)
    session = model._sessions[("session-unoptimized", "layers")][0]
    assert session._config.graph_options.rewrite_options.disable_meta_optimizer

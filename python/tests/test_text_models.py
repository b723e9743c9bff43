"""Keras text models fed strings as the wire delivers them (object arrays of str), in all three modes.

The models are built in-process and handed to KerasModel directly: protocol/layers.json does not list
StringLookup or TextVectorization yet, so ``model.build`` and ``.keras`` files refuse them. The
vocabularies are given inline: nothing is adapted, nothing downloaded.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfbridge_worker.codec import decode, encode
from tfbridge_worker.errors import ModelError
from tfbridge_worker.models.model import KerasModel, config_json
from tfbridge_worker.ops import Ops

L = keras.layers
MODES = ["session", "eager", "function"]


def over_the_wire(array: np.ndarray) -> np.ndarray:
    _, (back,) = decode([bytes(f) for f in encode({"id": 1}, [array])])
    return back


def lookup_model() -> keras.Model:
    word = keras.Input(shape=(1,), dtype="string", name="word")
    return keras.Model(word, L.StringLookup(vocabulary=["cat", "dog", "ß", "日本"], name="lookup")(word))


def vectorizer_model() -> keras.Model:
    text = keras.Input(shape=(1,), dtype="string", name="text")
    tokens = L.TextVectorization(vocabulary=["the", "cat", "sat", "größe", "日本"], output_sequence_length=4, name="tokens")(text)
    pooled = L.GlobalAveragePooling1D(name="pool")(L.Embedding(7, 3, name="embed")(tokens))
    return keras.Model(text, [tokens, pooled])


@pytest.mark.parametrize("mode", MODES)
def test_string_lookup_maps_words_as_keras_does(mode):
    model = lookup_model()
    words = over_the_wire(np.array([["dog"], ["日本"], ["zebra"], [""], ["ß"]]))
    assert words.dtype == object
    _, (ids,) = KerasModel(config_json(model), model).predict([words], mode)
    assert ids.ravel().tolist() == [2, 4, 0, 0, 3]  # 0: out of vocabulary
    assert np.array_equal(ids, np.asarray(model(tf.constant(words))))


@pytest.mark.parametrize("mode", MODES)
def test_text_vectorization_then_embedding_agrees_with_keras(mode):
    model = vectorizer_model()
    text = over_the_wire(np.array([["The cat sat"], ["Größe 日本 🙂!"], [""]]))
    _, (tokens, pooled) = KerasModel(config_json(model), model).predict([text], mode)
    assert tokens.tolist() == [[2, 3, 4, 0], [5, 6, 1, 0], [0, 0, 0, 0]]
    expected = model(tf.constant(text))
    assert np.array_equal(tokens, np.asarray(expected[0]))
    np.testing.assert_allclose(pooled, np.asarray(expected[1]), rtol=0, atol=1e-7)


def test_a_string_input_takes_text_arrays_and_refuses_numbers_by_name():
    model = lookup_model()
    handle = KerasModel(config_json(model), model)
    assert handle.inputs == [{"name": "word", "shape": [None, 1], "dtype": "string"}]
    _, (ids,) = handle.predict([np.array([["cat"]])], "eager")  # a <U array, as np.load gives it
    assert ids.tolist() == [[1]]
    with pytest.raises(ModelError, match="input word must be string, got float32") as caught:
        handle.predict([np.zeros((1, 1), np.float32)], "eager")
    assert caught.value.details == {"input": "word"}


def test_a_served_text_savedmodel_warms_up_on_empty_strings_and_runs(tmp_path):
    text = keras.Input(shape=(1,), dtype="string", name="text")
    tokens = L.TextVectorization(vocabulary=["the", "cat"], output_sequence_length=3, name="tokens")(text)
    keras.Model(text, tokens).export(str(tmp_path / "vec"), verbose=False)
    files = sorted(p for p in (tmp_path / "vec").rglob("*") if p.is_file())
    payload = {
        "key": "cd" * 32,
        "source": {"kind": "files", "root": "vec", "files": ["vec/" + p.relative_to(tmp_path / "vec").as_posix() for p in files]},
        "sourceArrays": len(files),
        "warmup": {"modes": ["session", "eager"], "given": 0},  # no inputs given: the worker makes them
    }
    ops = Ops()
    loaded, _, _ = ops("serve.load", payload, [np.frombuffer(p.read_bytes(), np.uint8) for p in files])
    assert loaded["loaded"] and loaded["inputs"] == [{"name": "text", "shape": [None, 1], "dtype": "string"}]
    _, (out,), _ = ops("serve.predict", {"key": "cd" * 32, "mode": "session"}, [over_the_wire(np.array([["the cat"], ["dog"]]))])
    assert out.tolist() == [[2, 3, 0], [1, 0, 0]]
    assert ops("serve.unload", {"key": "cd" * 32}, [])[0] == {"unloaded": True}  # and its folder goes with it

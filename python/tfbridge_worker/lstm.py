"""The LSTM spec as a one-layer Keras model, run in one of three modes with the same weights.

The spec (protocol/lstm-spec.json) only adds seeded initialization and named weights on top of a
model: the layer runs as a KerasModel (models/model.py), whose ``session`` mode builds it inside its
own ``tf.Graph`` and runs it in a cached ``tf.compat.v1.Session``, ``eager`` calls it directly and
``function`` wraps it in ``tf.function``, all with the same NumPy weights.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Mapping

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from .models.model import KerasModel
from .spec import MODES, check_input, check_weights

WEIGHT_ORDER = ("kernel", "recurrentKernel", "bias")


def _initializer(name: str, seed: int) -> keras.initializers.Initializer:
    cls = type(keras.initializers.get(name))
    try:
        return cls(seed=seed)
    except TypeError:  # zeros, ones: nothing random to seed
        return cls()


def seeded_weights(spec: dict) -> dict[str, np.ndarray]:
    """The weights Keras itself would initialize for this spec (seeds: seed, seed+1, seed+2)."""
    seed = spec["seed"]
    layer = keras.layers.LSTM(
        spec["units"],
        use_bias=spec["useBias"],
        unit_forget_bias=spec["unitForgetBias"],
        kernel_initializer=_initializer(spec["kernelInitializer"], seed),
        recurrent_initializer=_initializer(spec["recurrentInitializer"], seed + 1),
        bias_initializer=_initializer(spec["biasInitializer"], seed + 2),
        dtype=spec["dtype"],
    )
    layer.build((None, *spec["inputShape"]))
    return dict(zip(WEIGHT_ORDER, layer.get_weights()))


def lstm_config(spec: dict) -> dict:
    """The spec as a one-layer Keras 3 model config: an input, then the LSTM, its outputs the model's."""
    layer = {
        "class_name": "LSTM",
        "config": {
            "name": "lstm",
            "units": spec["units"],
            "activation": spec["activation"],
            "recurrent_activation": spec["recurrentActivation"],
            "use_bias": spec["useBias"],
            "return_sequences": spec["returnSequences"],
            "return_state": spec["returnState"],
            "go_backwards": spec["goBackwards"],
            "dtype": spec["dtype"],
        },
        "name": "lstm",
        "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [], "dtype": spec["dtype"], "keras_history": ["input", 0, 0]}}], "kwargs": {}}],
    }
    source = {"class_name": "InputLayer", "config": {"name": "input", "batch_shape": [None, *spec["inputShape"]], "dtype": spec["dtype"]}, "name": "input", "inbound_nodes": []}
    outputs = [["lstm", 0, i] for i in range(3 if spec["returnState"] else 1)]
    return {"class_name": "Functional", "config": {"name": "lstm_spec", "layers": [source, layer], "input_layers": [["input", 0, 0]], "output_layers": outputs}}


class LstmModel:
    """One spec with its weights, as a one-layer KerasModel: the same Session, eager and function machinery
    as any model, each mode built once, on first use."""

    def __init__(self, spec: dict, weights: Mapping[str, np.ndarray] | None):
        self.spec = spec
        if weights:
            check_weights(spec, weights)
            self.weights = {k: np.array(v) for k, v in weights.items()}  # own them: wire buffers are reused
        else:
            self.weights = seeded_weights(spec)
        # unit_forget_bias is already inside the materialized bias: the layer is built with plain weights.
        arrays = [self.weights[w] for w in WEIGHT_ORDER if w in self.weights]
        self.model = KerasModel.from_config(lstm_config(spec), {"lstm": arrays})

    def is_built(self, mode: str) -> bool:
        """Whether `mode`'s graph and session, or function, exist (the first run of a mode builds it)."""
        return self.model.is_built(mode)

    def build(self, mode: str) -> None:
        """Builds what `mode` runs on, if not yet built: the slow part of a first run for a large spec."""
        self.model.build(mode)

    def run(self, x: np.ndarray, mode: str = "session") -> list[np.ndarray]:
        """[output] or, with returnState, [output, h, c]."""
        check_input(self.spec, x)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        return self.model.predict([x], mode)[1]

    def export_saved_model(self, directory: str) -> None:
        """Writes the layer as a SavedModel with a ``serving_default`` signature (input -> named outputs).

        The weights are frozen into the graph as constants: TF.js loads SavedModels through the TF1
        session loader, which does not restore the variables of a Keras 3 layer.
        """
        model = self.model.keras
        signature = tf.TensorSpec((None, *self.spec["inputShape"]), self.spec["dtype"], name="input")

        @tf.function(input_signature=[signature])
        def live(x):
            return dict(zip(output_names(self.spec), _as_list(model(x, training=False))))

        frozen = convert_variables_to_constants_v2(live.get_concrete_function())

        @tf.function(input_signature=[signature])
        def serve(x):
            return frozen(x)

        module = tf.Module()
        module.serve = serve
        tf.saved_model.save(module, directory, signatures={"serving_default": serve})

    def close(self) -> None:
        self.model.close()


def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


class ModelCache:
    """Models keyed by resolved spec and weight bytes, least recently used dropped first."""

    def __init__(self, capacity: int = 16):
        self.capacity = capacity
        self._models: OrderedDict[str, LstmModel] = OrderedDict()

    @staticmethod
    def key(spec: dict, weights: Mapping[str, np.ndarray] | None) -> str:
        h = hashlib.sha256(json.dumps(spec, sort_keys=True).encode())
        for name in sorted(weights or {}):
            h.update(name.encode())
            h.update(np.ascontiguousarray(weights[name]).data)  # hashed in place, not copied
        return h.hexdigest()

    def get(self, spec: dict, weights: Mapping[str, np.ndarray] | None) -> LstmModel:
        key = self.key(spec, weights)
        model = self._models.get(key)
        if model is None:
            model = LstmModel(spec, weights)
            self._models[key] = model
            while len(self._models) > self.capacity:
                self._models.popitem(last=False)[1].close()
        self._models.move_to_end(key)
        return model

    def __len__(self) -> int:
        return len(self._models)


def output_names(spec: dict) -> list[str]:
    return ["output", "h", "c"] if spec["returnState"] else ["output"]


"""A Keras LSTM built from a resolved spec and run in one of three modes with the same weights.

``session`` (the default) builds the layer inside its own ``tf.Graph`` and runs it in a cached
``tf.compat.v1.Session``; ``eager`` calls the layer directly; ``function`` wraps it in ``tf.function``.
All three are handed the same NumPy weights, so they compute the same numbers.
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

from .graph_mode import new_session, session_run
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


def _layer(spec: dict, weights: Mapping[str, np.ndarray]) -> keras.layers.LSTM:
    # unit_forget_bias is already inside the materialized bias; applying it again would overwrite it.
    return keras.layers.LSTM(
        spec["units"],
        activation=spec["activation"],
        recurrent_activation=spec["recurrentActivation"],
        use_bias=spec["useBias"],
        unit_forget_bias=False,
        return_sequences=spec["returnSequences"],
        return_state=spec["returnState"],
        go_backwards=spec["goBackwards"],
        kernel_initializer=keras.initializers.Constant(weights["kernel"]),
        recurrent_initializer=keras.initializers.Constant(weights["recurrentKernel"]),
        bias_initializer=keras.initializers.Constant(weights["bias"]) if spec["useBias"] else "zeros",
        dtype=spec["dtype"],
    )


class LstmModel:
    """One spec with its weights; each mode's graph, session or function is built once, on first use."""

    def __init__(self, spec: dict, weights: Mapping[str, np.ndarray] | None):
        self.spec = spec
        if weights:
            check_weights(spec, weights)
            self.weights = {k: np.array(v) for k, v in weights.items()}  # own them: wire buffers are reused
        else:
            self.weights = seeded_weights(spec)
        self._session = None
        self._eager_layer = None
        self._function = None

    def is_built(self, mode: str) -> bool:
        """Whether `mode`'s graph and session, layer or function exist (the first run of a mode builds it)."""
        return {"session": self._session, "eager": self._eager_layer, "function": self._function}.get(mode) is not None

    def build(self, mode: str) -> None:
        """Builds what `mode` runs on, if not yet built: the slow part of a first run for a large spec."""
        if mode == "session":
            self._build_session()
        elif mode == "eager" and self._eager_layer is None:
            self._eager_layer = _layer(self.spec, self.weights)
        elif mode == "function" and self._function is None:
            signature = [tf.TensorSpec((None, *self.spec["inputShape"]), self.spec["dtype"])]
            self._function = tf.function(self._eager_outputs, input_signature=signature)

    def run(self, x: np.ndarray, mode: str = "session") -> list[np.ndarray]:
        """[output] or, with returnState, [output, h, c]."""
        check_input(self.spec, x)
        if mode == "session":
            return self._run_session(x)
        if mode == "eager":
            return [t.numpy() for t in self._eager_outputs(tf.constant(x))]
        if mode == "function":
            return [t.numpy() for t in self._run_function(tf.constant(x))]
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")

    def _build_session(self) -> None:
        if self._session is None:
            graph = tf.Graph()
            with graph.as_default():
                placeholder = tf.compat.v1.placeholder(self.spec["dtype"], (None, *self.spec["inputShape"]), "input")
                outputs = _as_list(_layer(self.spec, self.weights)(placeholder))
            self._session = (new_session(graph), placeholder, outputs)

    def _run_session(self, x: np.ndarray) -> list[np.ndarray]:
        self._build_session()
        session, placeholder, outputs = self._session
        return session_run(session, outputs, {placeholder: x})

    def _eager_outputs(self, x: tf.Tensor) -> list[tf.Tensor]:
        self.build("eager")
        return _as_list(self._eager_layer(x))

    def _run_function(self, x: tf.Tensor) -> list[tf.Tensor]:
        self.build("function")
        return self._function(x)

    def export_saved_model(self, directory: str) -> None:
        """Writes the layer as a SavedModel with a ``serving_default`` signature (input -> named outputs).

        The weights are frozen into the graph as constants: TF.js loads SavedModels through the TF1
        session loader, which does not restore the variables of a Keras 3 layer.
        """
        layer = _layer(self.spec, self.weights)
        signature = tf.TensorSpec((None, *self.spec["inputShape"]), self.spec["dtype"], name="input")

        @tf.function(input_signature=[signature])
        def live(x):
            return dict(zip(output_names(self.spec), _as_list(layer(x))))

        frozen = convert_variables_to_constants_v2(live.get_concrete_function())

        @tf.function(input_signature=[signature])
        def serve(x):
            return frozen(x)

        module = tf.Module()
        module.serve = serve
        tf.saved_model.save(module, directory, signatures={"serving_default": serve})

    def close(self) -> None:
        if self._session is not None:
            self._session[0].close()
            self._session = None


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


"""A checked Keras 3 model with its weights, run in a v1 Session (default), eagerly, or as a tf.function.

The weights live here as NumPy arrays, per layer in Keras's own ``layer.weights`` order. Each Session
graph is built from the config inside its own ``tf.Graph`` (so every tensor is symbolic, see
graph_mode.py) and gets those arrays assigned; eager and function modes use one eager Keras model that
holds the same arrays. So every mode computes with bit-identical weights.

``outputs="layers"`` runs a second functional model over the same layers whose outputs are every
layer's outputs, named ``layer`` (its first output) or ``layer:i``: the intermediate values come from
the very graph that computes the result.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..errors import ModelError
from ..graph_mode import new_session, session_run
from ..protocol import can_feed
from .schema import check_model_config

MODES = ("session", "eager", "function")
OUTPUT_KINDS = ("model", "layers")


def _deserialize(config: dict) -> keras.Model:
    # Keras pops keys out of the dict it deserializes: hand it a copy, keep ours whole.
    return keras.saving.deserialize_keras_object(copy.deepcopy(config), safe_mode=True)


def _tensor_name(tensor: Any) -> str:
    """`layer` for a layer's first output, `layer:i` for the others (return_state, merge_mode None)."""
    layer, _, index = tensor._keras_history
    return layer.name if index == 0 else f"{layer.name}:{index}"


def _flat(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _layer_outputs(model: keras.Model) -> list:
    """Every non-input layer's output tensors, in the model's (topological) layer order."""
    return [t for layer in model.layers if not isinstance(layer, keras.layers.InputLayer) for t in _flat(layer.output)]


def _describe(tensor: Any, name: str) -> dict:
    return {"name": name, "shape": list(tensor.shape), "dtype": str(tensor.dtype)}


class KerasModel:
    """A model config (already checked) plus its weights; graphs, sessions and functions on demand."""

    def __init__(self, config: dict, eager: keras.Model, source: str | None = None):
        self.config = config
        self.source = source
        self._eager = eager
        self.weights: dict[str, list[np.ndarray]] = {
            layer.name: [np.array(v.numpy()) for v in layer.weights] for layer in eager.layers if layer.weights
        }
        self.inputs = [_describe(t, t._keras_history[0].name) for t in eager.inputs]
        self.outputs = [_describe(t, _tensor_name(t)) for t in _flat(eager.outputs)]
        layer_tensors = _layer_outputs(eager)
        self.layer_outputs = [
            {**_describe(t, _tensor_name(t)), "layer": t._keras_history[0].name, "class": type(t._keras_history[0]).__name__}
            for t in layer_tensors
        ]
        self._eager_layers = keras.Model(eager.inputs, layer_tensors) if layer_tensors else None
        self._sessions: dict[str, tuple] = {}
        self._functions: dict[str, Any] = {}

    @classmethod
    def from_config(cls, config: Any, weights: dict[str, list[np.ndarray]] | None = None, seed: int | None = None) -> "KerasModel":
        """Builds a model from a description; weights by layer name, or initialized from `seed`."""
        resolved = check_model_config(config)
        if seed is not None:
            keras.utils.set_random_seed(seed)
        try:
            eager = _deserialize(resolved)
        except Exception as exc:  # Keras's own shape and argument checks
            raise ModelError(f"Keras could not build the model: {type(exc).__name__}: {exc}") from exc
        if weights is not None:
            _set_weights(eager, weights)
        return cls(resolved, eager)

    @property
    def keras(self) -> keras.Model:
        """The eager Keras model holding the weights (eager and function modes run it)."""
        return self._eager

    def describe(self) -> dict:
        return {
            "config": self.config,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "layers": self.layer_outputs,
            "weights": [{"layer": k, "shapes": [list(w.shape) for w in v]} for k, v in self.weights.items()],
            "source": self.source,
        }

    def _check_inputs(self, arrays: list[np.ndarray]) -> None:
        if len(arrays) != len(self.inputs):
            names = ", ".join(i["name"] for i in self.inputs)
            raise ModelError(f"the model takes {len(self.inputs)} input(s) ({names}), got {len(arrays)}")
        for spec, x in zip(self.inputs, arrays):
            want = spec["shape"]
            if x.ndim != len(want) or any(w is not None and w != d for w, d in zip(want, x.shape)):
                raise ModelError(f"input {spec['name']} must have shape {want} (None: any), got {list(x.shape)}", input=spec["name"])
            if not can_feed(x.dtype, spec["dtype"]):
                raise ModelError(f"input {spec['name']} must be {spec['dtype']}, got {x.dtype}", input=spec["name"])
        self._check_embedding_ids(arrays)

    def _check_embedding_ids(self, arrays: list[np.ndarray]) -> None:
        """Out-of-range ids make TF raise mid-run and TF.js read zeros: refuse them up front, by name."""
        by_input = {spec["name"]: x for spec, x in zip(self.inputs, arrays)}
        for layer in self._eager.layers:
            if not isinstance(layer, keras.layers.Embedding):
                continue
            for node in layer._inbound_nodes:
                for t in node.input_tensors:
                    source = t._keras_history[0].name
                    x = by_input.get(source)
                    if x is not None and x.size and (x.min() < 0 or x.max() >= layer.input_dim):
                        raise ModelError(
                            f"input {source} feeds Embedding {layer.name} (input_dim {layer.input_dim}) "
                            f"ids in [{x.min()}, {x.max()}]; ids must be in [0, {layer.input_dim - 1}]",
                            input=source, layer=layer.name,
                        )

    def is_built(self, mode: str, outputs: str = "model") -> bool:
        """Whether `mode`'s graph and session, or function, exist (the first run of a mode builds it)."""
        return mode == "eager" or outputs in (self._sessions if mode == "session" else self._functions)

    def build(self, mode: str, outputs: str = "model") -> None:
        """Builds what `mode` runs on, if not yet built: the slow part of a first run."""
        if mode not in MODES:
            raise ModelError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if outputs not in OUTPUT_KINDS:
            raise ModelError(f"outputs must be one of {', '.join(OUTPUT_KINDS)}, got {outputs!r}")
        if self.is_built(mode, outputs):
            return
        if mode == "session":
            self._sessions[outputs] = self._build_session(outputs)
        else:
            target = self._eager if outputs == "model" else self._eager_layers
            signature = [[tf.TensorSpec([None, *i["shape"][1:]], i["dtype"]) for i in self.inputs]]
            self._functions[outputs] = tf.function(lambda xs: target(xs, training=False), input_signature=signature)

    def predict(self, arrays: list[np.ndarray], mode: str = "session", outputs: str = "model") -> tuple[list[str], list[np.ndarray]]:
        self.build(mode, outputs)
        self._check_inputs(arrays)
        names = [o["name"] for o in (self.outputs if outputs == "model" else self.layer_outputs)]
        if mode == "session":
            session, placeholders, fetches = self._sessions[outputs]
            return names, session_run(session, fetches, dict(zip(placeholders, arrays)))
        tensors = [tf.constant(x) for x in arrays]
        if mode == "eager":
            result = (self._eager if outputs == "model" else self._eager_layers)(tensors, training=False)
        else:
            result = self._functions[outputs](tensors)
        return names, [np.asarray(t) for t in _flat(result)]

    def _build_session(self, outputs: str) -> tuple:
        graph = tf.Graph()
        with graph.as_default():
            model = _deserialize(self.config)
            target = model if outputs == "model" else keras.Model(model.inputs, _layer_outputs(model))
            placeholders = [tf.compat.v1.placeholder(i["dtype"], [None, *i["shape"][1:]], name=i["name"]) for i in self.inputs]
            fetches = _flat(target(placeholders, training=False))
            feeds, assigns = {}, []
            for layer in model.layers:
                for variable, value in zip(layer.weights, self.weights.get(layer.name, [])):
                    holder = tf.compat.v1.placeholder(variable.dtype, value.shape)
                    assigns.append(variable._value.assign(holder))  # the tf.Variable inside Keras's Variable
                    feeds[holder] = value
            # Lookup layers (StringLookup, TextVectorization) keep their vocabulary in a table, not a weight.
            assigns.append(tf.compat.v1.tables_initializer())
        session = new_session(graph)
        session.run(assigns, feeds)
        return session, placeholders, fetches

    def close(self) -> None:
        for session, _, _ in self._sessions.values():
            session.close()
        self._sessions.clear()
        self._functions.clear()


def _set_weights(model: keras.Model, weights: dict[str, list[np.ndarray]]) -> None:
    """Explicit weights by layer name, each list in the layer's own order; every mismatch named."""
    layers = {layer.name: layer for layer in model.layers}
    unknown = sorted(set(weights) - {name for name, layer in layers.items() if layer.weights})
    if unknown:
        raise ModelError(f"weights name layer(s) without weights in this model: {', '.join(unknown)}", layer=unknown[0])
    for name, layer in layers.items():
        if not layer.weights:
            continue
        given = weights.get(name)
        if given is None:
            raise ModelError(f"weights for layer {name} are missing (explicit weights must cover every layer that has any)", layer=name)
        expected = [tuple(v.shape) for v in layer.weights]
        if len(given) != len(expected):
            raise ModelError(f"layer {name} has {len(expected)} weight(s) {[list(s) for s in expected]}, got {len(given)}", layer=name)
        for i, (w, shape) in enumerate(zip(given, expected)):
            if tuple(w.shape) != shape:
                raise ModelError(f"layer {name} weight {i} ({layer.weights[i].name}) must have shape {list(shape)}, got {list(w.shape)}", layer=name)
            want = np.dtype(layer.weights[i].dtype)
            if w.dtype != want:
                raise ModelError(f"layer {name} weight {i} must be {want}, got {w.dtype}", layer=name)
        layer.set_weights(given)


def config_json(model: keras.Model) -> dict:
    """A live Keras model's config in the form model.to_json() writes."""
    return json.loads(model.to_json())

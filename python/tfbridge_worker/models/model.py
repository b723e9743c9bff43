"""A checked Keras 3 model with its weights, run in a v1 Session (default), eagerly, or as a tf.function.

The weights live here as NumPy arrays, per layer in Keras's own ``layer.weights`` order. Each Session
graph is built from the config inside its own ``tf.Graph`` (so every tensor is symbolic, see
graph_mode.py) and gets those arrays assigned; eager and function modes use one eager Keras model that
holds the same arrays. So every mode computes with bit-identical weights.

Any model Keras 3 deserializes in safe mode runs here (nested models, shared layers, operation nodes
such as ``x + y``), once safety.py has kept code out. ``tfjs`` says whether it also has a TF.js twin
(schema.py); ``config`` is then the resolved config the twin is built from, else Keras's own.

``outputs="layers"`` gives every layer's outputs, named by their path (walk.py: ``layer``,
``layer:i``, ``dense@1`` for a shared layer's second call, ``base/conv`` inside a nested model): the
intermediate values come from the very graph that computes the result.
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
from . import walk
from .safety import refuse_code
from .schema import tfjs_support, with_modules

# "session-unoptimized": the Session with graph rewrites off, which parity runs to tell a rewrite from a kernel.
MODES = ("session", "session-unoptimized", "eager", "function")
SESSION_MODES = ("session", "session-unoptimized")
OUTPUT_KINDS = ("model", "layers")


def _deserialize(config: dict) -> keras.Model:
    # Keras pops keys out of the dict it deserializes: hand it a copy, keep ours whole.
    return keras.saving.deserialize_keras_object(copy.deepcopy(config), safe_mode=True)


def _flat(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _describe(tensor: Any, name: str) -> dict:
    return {"name": name, "shape": list(tensor.shape), "dtype": str(tensor.dtype)}


class KerasModel:
    """A model config (already checked) plus its weights; graphs, sessions and functions on demand."""

    def __init__(self, config: dict, eager: keras.Model, source: str | None = None, tfjs: dict | None = None):
        self.config = config
        self.source = source
        self.tfjs = tfjs if tfjs is not None else {"supported": True}
        self._eager = eager
        self.weights: dict[str, list[np.ndarray]] = {
            layer.name: [np.array(v.numpy()) for v in layer.weights] for layer in eager.layers if layer.weights
        }
        listed = walk.describe(eager)
        names = {id(entry["tensor"]): entry["name"] for entry in listed}
        self.inputs = [_describe(t, t._keras_history[0].name) for t in eager.inputs]
        # A model output is one of the listed tensors (by identity), so it has the same name there.
        self.outputs = [_describe(t, names.get(id(t), t._keras_history[0].name)) for t in _flat(eager.outputs)]
        self.layer_outputs = [{**_describe(e["tensor"], e["name"]), "layer": e["layer"], "class": e["class"]} for e in listed]
        self._sessions: dict[tuple[str, str], tuple] = {}
        self._functions: dict[str, Any] = {}

    @classmethod
    def opened(cls, eager: keras.Model, source: str) -> "KerasModel":
        """A model Keras loaded from a file: the resolved config if it has a TF.js twin, else Keras's own."""
        own = config_json(eager)
        resolved, tfjs = tfjs_support(own)
        return cls(resolved or own, eager, source, tfjs)

    @classmethod
    def from_config(cls, config: Any, weights: dict[str, list[np.ndarray]] | None = None, seed: int | None = None) -> "KerasModel":
        """Builds a model from a description; weights by layer name, or initialized from `seed`."""
        if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
            raise ModelError(f"config: not a Keras model config (an object with class_name and config), got {type(config).__name__}")
        refuse_code(config)
        resolved, tfjs = tfjs_support(config)
        if seed is not None:
            keras.utils.set_random_seed(seed)
        try:
            eager = _deserialize(resolved or with_modules(config))
        except Exception as exc:  # Keras's own shape and argument checks
            raise ModelError(f"Keras could not build the model: {type(exc).__name__}: {exc}") from exc
        if not isinstance(eager, keras.Model):
            raise ModelError(f"config: describes a {type(eager).__name__}, not a model")
        if weights is not None:
            _set_weights(eager, weights)
        return cls(resolved or config_json(eager), eager, None, tfjs)

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
            "tfjs": self.tfjs,
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
        if mode in SESSION_MODES:
            return (mode, outputs) in self._sessions
        return mode == "eager" or outputs in self._functions

    def build(self, mode: str, outputs: str = "model") -> None:
        """Builds what `mode` runs on, if not yet built: the slow part of a first run."""
        if mode not in MODES:
            raise ModelError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if outputs not in OUTPUT_KINDS:
            raise ModelError(f"outputs must be one of {', '.join(OUTPUT_KINDS)}, got {outputs!r}")
        if self.is_built(mode, outputs):
            return
        if mode in SESSION_MODES:
            self._sessions[(mode, outputs)] = self._build_session(outputs, optimize=mode == "session")
        else:
            run = self._run_eager if outputs == "model" else self._run_layers
            signature = [[tf.TensorSpec([None, *i["shape"][1:]], i["dtype"]) for i in self.inputs]]
            self._functions[outputs] = tf.function(run, input_signature=signature)

    def _run_eager(self, xs: list) -> Any:
        return self._eager(xs, training=False)

    def _run_layers(self, xs: list) -> list:
        return walk.run(self._eager, xs)

    def predict(self, arrays: list[np.ndarray], mode: str = "session", outputs: str = "model") -> tuple[list[str], list[np.ndarray]]:
        self.build(mode, outputs)
        self._check_inputs(arrays)
        names = [o["name"] for o in (self.outputs if outputs == "model" else self.layer_outputs)]
        if mode in SESSION_MODES:
            session, placeholders, fetches = self._sessions[(mode, outputs)]
            return names, session_run(session, fetches, dict(zip(placeholders, arrays)))
        tensors = [tf.constant(x) for x in arrays]
        if mode == "eager":
            result = (self._run_eager if outputs == "model" else self._run_layers)(tensors)
        else:
            result = self._functions[outputs](tensors)
        return names, [np.asarray(t) for t in _flat(result)]

    def _build_session(self, outputs: str, optimize: bool = True) -> tuple:
        graph = tf.Graph()
        with graph.as_default():
            model = _deserialize(self.config)
            placeholders = [tf.compat.v1.placeholder(i["dtype"], [None, *i["shape"][1:]], name=i["name"]) for i in self.inputs]
            fetches = _flat(model(placeholders, training=False)) if outputs == "model" else walk.run(model, placeholders)
            feeds, assigns = {}, []
            for layer in model.layers:
                for variable, value in zip(layer.weights, self.weights.get(layer.name, [])):
                    holder = tf.compat.v1.placeholder(variable.dtype, value.shape)
                    assigns.append(variable._value.assign(holder))  # the tf.Variable inside Keras's Variable
                    feeds[holder] = value
            # Lookup layers (StringLookup, TextVectorization) keep their vocabulary in a table, not a weight.
            assigns.append(tf.compat.v1.tables_initializer())
        session = new_session(graph, optimize)
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
        # Layers that copy weights into tensors when built (Normalization's adapted mean and
        # variance) refresh those copies here, as Keras does after loading a file.
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()


def config_json(model: keras.Model) -> dict:
    """A live Keras model's config in the form model.to_json() writes."""
    return json.loads(model.to_json())

"""A SavedModel directory as an opaque graph: its serving signature run in a v1 Session (or as a function).

A SavedModel holds a graph, not Keras layers, so it has no config, no per-layer outputs and no TF.js
twin here; its inputs and outputs are the ``serving_default`` signature's, ordered by name. Loading
one runs no Python code from it, but its graph is a TensorFlow program: graph_ops.py refuses one that
reaches files before TensorFlow reads it.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from ..errors import ModelError
from ..graph_mode import session_run
from ..protocol import can_feed
from .graph_ops import check_graph_ops

SIGNATURE = "serving_default"
#: A graph has no layers to build a TF.js LayersModel from (tfjs-node's loadSavedModel runs it whole).
TFJS = {"supported": False, "problems": [{"layer": "?", "class": "SavedModel", "reason": "a SavedModel is one TensorFlow graph without Keras layers: load the .keras file for a TF.js twin"}]}


def _describe(name: str, spec) -> dict:
    shape = None if spec.shape.rank is None else [d for d in spec.shape.as_list()]
    return {"name": name, "shape": shape, "dtype": spec.dtype.name}


class SavedModelGraph:
    def __init__(self, path: str, shown_as: str | None = None):
        shown = shown_as or path
        if not os.path.isfile(os.path.join(path, "saved_model.pb")):
            raise ModelError(f"{shown}: a directory without saved_model.pb is not a SavedModel", file=shown)
        self.path = path
        self.source = shown
        self.config = None
        self.weights: dict = {}
        check_graph_ops(os.path.join(path, "saved_model.pb"), shown)
        try:
            self._loaded = tf.saved_model.load(path)
            self._signature = self._loaded.signatures[SIGNATURE]
        except KeyError as exc:
            raise ModelError(f"{shown}: the SavedModel has no {SIGNATURE!r} signature", file=shown) from exc
        except Exception as exc:
            reason = str(exc).replace(path, shown)
            raise ModelError(f"{shown}: TensorFlow could not load the SavedModel: {type(exc).__name__}: {reason}", file=shown) from exc
        inputs = self._signature.structured_input_signature[1]
        outputs = self._signature.structured_outputs
        self.inputs = [_describe(k, inputs[k]) for k in sorted(inputs)]
        self.outputs = [_describe(k, outputs[k]) for k in sorted(outputs)]
        self._session = None

    def describe(self) -> dict:
        return {"config": None, "inputs": self.inputs, "outputs": self.outputs, "layers": [], "weights": [], "source": self.source, "tfjs": TFJS}

    def _check_inputs(self, arrays: list[np.ndarray]) -> None:
        if len(arrays) != len(self.inputs):
            raise ModelError(f"the SavedModel takes {len(self.inputs)} input(s) ({', '.join(i['name'] for i in self.inputs)}), got {len(arrays)}")
        for spec, x in zip(self.inputs, arrays):
            want = spec["shape"]
            if want is not None and (x.ndim != len(want) or any(w is not None and w != d for w, d in zip(want, x.shape))):
                raise ModelError(f"input {spec['name']} must have shape {want} (None: any), got {list(x.shape)}", input=spec["name"])
            if not can_feed(x.dtype, spec["dtype"]):
                raise ModelError(f"input {spec['name']} must be {spec['dtype']}, got {x.dtype}", input=spec["name"])

    def predict(self, arrays: list[np.ndarray], mode: str = "session", outputs: str = "model") -> tuple[list[str], list[np.ndarray]]:
        if outputs != "model":
            raise ModelError(f"{self.source}: a SavedModel is one graph without Keras layers; only outputs='model' is available")
        self._check_inputs(arrays)
        names = [o["name"] for o in self.outputs]
        feeds = {i["name"]: x for i, x in zip(self.inputs, arrays)}
        if mode == "session":
            session, placeholders, fetches = self._session or self._load_session()
            result = session_run(session, [fetches[n] for n in names], {placeholders[k]: v for k, v in feeds.items()})
            return names, list(result)
        if mode not in ("eager", "function"):
            raise ModelError(f"mode must be one of session, eager, function, got {mode!r}")
        result = self._signature(**{k: tf.constant(v) for k, v in feeds.items()})
        return names, [np.asarray(result[n]) for n in names]

    def _load_session(self) -> tuple:
        """The TF1 way, as TF Serving and tfjs-node load it: the MetaGraph into a Session of its own graph."""
        graph = tf.Graph()
        session = tf.compat.v1.Session(graph=graph)
        with graph.as_default():
            meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], self.path)
        signature = meta.signature_def[SIGNATURE]
        placeholders = {k: graph.get_tensor_by_name(v.name) for k, v in signature.inputs.items()}
        fetches = {k: graph.get_tensor_by_name(v.name) for k, v in signature.outputs.items()}
        self._session = (session, placeholders, fetches)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session[0].close()
            self._session = None

"""Opens a user's model file without running code from it.

Each format's config is read and checked against the schema *before* Keras deserializes anything, so a
Lambda or custom layer is refused by name, never imported or executed; Keras itself then loads with
``safe_mode=True`` and nothing is unpickled (.keras and .h5 weights are HDF5 arrays).
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import h5py
import keras

from ..errors import ModelError
from .model import KerasModel, config_json
from .savedmodel import SavedModelGraph
from .schema import CODE_LAYERS, LAYER_SCHEMA, check_model_config


def _class_names(node: Any) -> list[tuple[str, str]]:
    """(layer name, class name) of every layer config nested anywhere in a Keras 2 or 3 config."""
    found = []
    if isinstance(node, dict):
        if "class_name" in node and isinstance(node.get("config"), dict) and "layers" not in node["config"]:
            found.append((str(node["config"].get("name", "?")), str(node["class_name"])))
        for value in node.values():
            found += _class_names(value)
    elif isinstance(node, list):
        for value in node:
            found += _class_names(value)
    return found


def _refuse_unknown_classes(config: Any, path: str) -> None:
    """For formats whose config is Keras 2's: refuse code-carrying and unsupported classes before loading."""
    layers = config.get("config", {}).get("layers", []) if isinstance(config, dict) else []
    problems = []
    for name, cls in _class_names(layers):
        if cls in CODE_LAYERS:
            problems.append({"layer": name, "class": cls, "reason": CODE_LAYERS[cls]})
        elif cls not in LAYER_SCHEMA and not cls.endswith(("Initializer", "Regularizer", "Constraint")) and cls not in _INERT_CLASSES:
            problems.append({"layer": name, "class": cls, "reason": f"layer class {cls} is not supported"})
    if problems:
        listed = "; ".join(f"{p['layer']} ({p['class']}): {p['reason']}" for p in problems)
        raise ModelError(f"{path}: {len(problems)} problem(s): {listed}", file=path, problems=problems)


# Objects that appear with a class_name inside layer configs and are not layers.
_INERT_CLASSES = {
    "DTypePolicy", "Policy", "GlorotUniform", "GlorotNormal", "Orthogonal", "Zeros", "Ones", "Constant",
    "RandomUniform", "RandomNormal", "TruncatedNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal",
    "VarianceScaling", "Identity", "L1", "L2", "L1L2", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm",
    "__keras_tensor__",
}


def _keras_load(path: str) -> keras.Model:
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        raise ModelError(f"{path}: Keras could not load it: {type(exc).__name__}: {exc}", file=path) from exc


def _load_keras_zip(path: str) -> KerasModel:
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a .keras file (not a zip archive)", file=path)
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            archive.testzip()
    except KeyError as exc:
        raise ModelError(f"{path}: not a .keras file (no config.json inside)", file=path) from exc
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ModelError(f"{path}: the .keras archive is corrupt: {exc}", file=path) from exc
    check_model_config(config, path)
    model = _keras_load(path)
    return KerasModel(check_model_config(config_json(model), path), model, path)


def _load_h5(path: str) -> KerasModel:
    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
    except OSError as exc:
        raise ModelError(f"{path}: not a readable HDF5 file: {exc}", file=path) from exc
    if raw is None:
        raise ModelError(f"{path}: the HDF5 file holds no model_config (weights only?)", file=path)
    _refuse_unknown_classes(json.loads(raw if isinstance(raw, str) else raw.decode()), path)
    model = _keras_load(path)
    return KerasModel(check_model_config(config_json(model), path), model, path)


def load_model_file(path: Any) -> KerasModel | SavedModelGraph:
    """A .keras file, a Keras .h5 file Keras 3 still reads, or a SavedModel directory, loaded safely."""
    if not isinstance(path, str) or not path:
        raise ModelError(f"path must be a non-empty string, got {path!r}")
    if os.path.isdir(path):
        return SavedModelGraph(path)
    if not os.path.exists(path):
        raise ModelError(f"{path}: no such file", file=path)
    if path.endswith((".h5", ".hdf5")):
        return _load_h5(path)
    return _load_keras_zip(path)

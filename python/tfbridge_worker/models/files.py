"""Opens a user's model file without running code from it.

Each format's config is read and checked for code (safety.py) *before* Keras deserializes anything, so
a Lambda or custom class is refused by name, never imported or executed; Keras itself then loads with
``safe_mode=True`` and nothing is unpickled (.keras and .h5 weights are HDF5 arrays). Any model Keras
loads that way runs; whether it also has a TF.js twin is the handle's ``tfjs``.

``shown_as`` is the path the user gave, where it differs from the file read (a pool writes the bytes
it was sent to a private folder): every message and ``details.file`` name it.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import h5py
import keras

from ..errors import ModelError
from .model import KerasModel
from .refusal import capped
from .safety import refuse_code
from .savedmodel import SavedModelGraph


def _keras_load(path: str, shown: str) -> KerasModel:
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        reason = str(exc).replace(path, shown)
        raise ModelError(capped(f"{shown}: Keras could not load it: {type(exc).__name__}: {reason}"), file=shown) from exc
    if not isinstance(model, keras.Model):
        raise ModelError(f"{shown}: holds a {type(model).__name__}, not a Keras model", file=shown)
    return KerasModel.opened(model, shown)


def _load_keras_zip(path: str, shown: str) -> KerasModel:
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{shown}: not a .keras file (not a zip archive)", file=shown)
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            archive.testzip()
    except KeyError as exc:
        raise ModelError(f"{shown}: not a .keras file (no config.json inside)", file=shown) from exc
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ModelError(f"{shown}: the .keras archive is corrupt: {exc}", file=shown) from exc
    refuse_code(config, shown)
    return _keras_load(path, shown)


def _load_h5(path: str, shown: str) -> KerasModel:
    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
    except OSError as exc:
        raise ModelError(f"{shown}: not a readable HDF5 file: {exc}", file=shown) from exc
    if raw is None:
        raise ModelError(f"{shown}: the HDF5 file holds no model_config (weights only?)", file=shown)
    try:
        config = json.loads(raw if isinstance(raw, str) else raw.decode())
    except ValueError as exc:
        raise ModelError(f"{shown}: the HDF5 file's model_config is not JSON: {exc}", file=shown) from exc
    refuse_code(config, shown)
    return _keras_load(path, shown)


def load_model_file(path: Any, shown_as: str | None = None) -> KerasModel | SavedModelGraph:
    """A .keras file, a Keras .h5 file Keras 3 still reads, or a SavedModel directory, loaded safely."""
    if not isinstance(path, str) or not path:
        raise ModelError(f"path must be a non-empty string, got {path!r}")
    shown = shown_as or path
    if os.path.isdir(path):
        return SavedModelGraph(path, shown)
    if not os.path.exists(path):
        raise ModelError(f"{shown}: no such file", file=shown)
    if path.endswith((".h5", ".hdf5")):
        return _load_h5(path, shown)
    return _load_keras_zip(path, shown)

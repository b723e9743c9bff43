"""Opens a user's model file without running code from it.

Each format's config is read and checked for code (safety.py) *before* Keras deserializes anything, so
a Lambda or custom class is refused by name, never imported or executed; Keras itself then loads with
``safe_mode=True`` and nothing is unpickled (.keras and .h5 weights are HDF5 arrays). Any model Keras
loads that way runs; whether it also has a TF.js twin is the handle's ``tfjs``.

Before any of that, the path must name a regular file or a SavedModel folder (file_kinds.py: a FIFO
would block the worker), a .keras archive must declare sizes within bounds (archives.py: a 1 MB file
can hold a 1 GiB config.json), and the config must be within the bounds of bounds.py, so nothing is
parsed or built that would take the worker down.

``shown_as`` is the path the user gave, where it differs from the file read (a pool writes the bytes
it was sent to a private folder): every message and ``details.file`` name it.
"""

from __future__ import annotations

import json
import zipfile
from typing import Any

import h5py
import keras

from ..errors import ModelError
from .archives import check_archive, read_member
from .bounds import MAX_CONFIG_BYTES, MAX_DEPTH
from .file_kinds import check_folder_entries, path_kind
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


def _parsed(text: str | bytes, shown: str, what: str) -> object:
    """JSON, with a nesting too deep for Python's parser refused as a ModelError rather than a RecursionError."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ModelError(f"{shown}: {what} is not JSON: {exc}", file=shown) from exc
    except RecursionError:
        raise ModelError(f"{shown}: {what} nests deeper than Python's JSON parser goes (the bound is {MAX_DEPTH} levels; "
                         "docs/security.md)", file=shown, bound="maxDepth", limit=MAX_DEPTH) from None


def _load_keras_zip(path: str, shown: str) -> KerasModel:
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{shown}: not a .keras file (not a zip archive)", file=shown)
    try:
        with zipfile.ZipFile(path) as archive:
            check_archive(archive, shown)
            raw = read_member(archive, "config.json", shown, MAX_CONFIG_BYTES, "maxBytes")
            archive.testzip()
    except KeyError as exc:
        raise ModelError(f"{shown}: not a .keras file (no config.json inside)", file=shown) from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"{shown}: the .keras archive is corrupt: {exc}", file=shown) from exc
    config = _parsed(raw, shown, "config.json")
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
    if len(raw) > MAX_CONFIG_BYTES:
        raise ModelError(f"{shown}: model_config is {len(raw):,} bytes, over the bound of {MAX_CONFIG_BYTES:,} (maxBytes; "
                         "docs/security.md)", file=shown, bound="maxBytes", limit=MAX_CONFIG_BYTES, found=len(raw))
    config = _parsed(raw, shown, "the HDF5 file's model_config")
    refuse_code(config, shown)
    return _keras_load(path, shown)


def load_model_file(path: Any, shown_as: str | None = None) -> KerasModel | SavedModelGraph:
    """A .keras file, a Keras .h5 file Keras 3 still reads, or a SavedModel directory, loaded safely."""
    if not isinstance(path, str) or not path:
        raise ModelError(f"path must be a non-empty string, got {path!r}")
    shown = shown_as or path
    if path_kind(path, shown) == "folder":
        check_folder_entries(path, shown)
        return SavedModelGraph(path, shown)
    if path.endswith((".h5", ".hdf5")):
        return _load_h5(path, shown)
    return _load_keras_zip(path, shown)

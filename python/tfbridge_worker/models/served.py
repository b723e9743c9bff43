"""Models a pool serves, by content key: loaded once per worker from bytes or a description, warmed, run.

A pool sends a model's *bytes* (every file of a .keras/.h5 file or a SavedModel folder) rather than a
path, so a remote worker needs no shared filesystem; the key is the content hash the pool computed, so
a worker that joins later loads exactly the version the others serve. Loading is idempotent by key,
so a pool may send the same load twice (a retry, a worker that rejoined) without it loading twice.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from typing import Any

import numpy as np

from ..errors import BadRequest, ModelError
from ..protocol import STRING
from .files import load_model_file
from .model import MODES, KerasModel
from .savedmodel import SavedModelGraph

_KEY = re.compile(r"^[0-9a-f]{8,128}$")


def weights_by_layer(names: Any, arrays: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Arrays named `layer/index` as lists per layer, in index order; a gap or a repeat is refused."""
    if not isinstance(names, list) or len(names) != len(arrays) or not all(isinstance(n, str) and n.rpartition("/")[2].isdigit() for n in names):
        raise BadRequest("weights: name each array as 'layer/index'")
    weights: dict[str, list] = {}
    for name, array in sorted(zip(names, arrays), key=lambda p: (p[0].rpartition("/")[0], int(p[0].rpartition("/")[2]))):
        layer, _, index = name.rpartition("/")
        if int(index) != len(weights.setdefault(layer, [])):
            raise ModelError(f"weights for layer {layer} skip or repeat index {index}", layer=layer)
        weights[layer].append(np.array(array))  # own them: wire buffers are reused
    return weights


def check_seed(seed: Any) -> None:
    if seed is not None and (type(seed) is not int or not 0 <= seed < 2**31):
        raise ModelError(f"seed must be an integer in [0, 2^31), got {seed!r}")


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise BadRequest(f"key must be a lowercase hex content hash, got {key!r}")
    return key


def _write_files(folder: str, files: Any, arrays: list[np.ndarray]) -> None:
    """The model's files under `folder`, each path checked to stay inside it."""
    if not isinstance(files, list) or len(files) != len(arrays) or not files:
        raise BadRequest("source.files names one uint8 array per file")
    for rel, data in zip(files, arrays):
        parts = rel.split("/") if isinstance(rel, str) else []
        if not parts or any(p in ("", ".", "..") for p in parts) or rel.startswith("/"):
            raise BadRequest(f"source.files: {rel!r} is not a relative path inside the model")
        if data.dtype != np.uint8 or data.ndim != 1:
            raise BadRequest(f"source.files: {rel} must come as a 1-D uint8 array, got {data.dtype} {list(data.shape)}")
        path = os.path.join(folder, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data.tobytes())


def _signature_inputs(model: KerasModel | SavedModelGraph) -> list[np.ndarray]:
    """Zeros (empty strings for text) of each input's shape with batch 1 (and 1 for other free sizes): a warm-up request."""
    out = []
    for spec in model.inputs:
        if spec["shape"] is None:
            raise ModelError(f"input {spec['name']} has no known rank: give the warm-up inputs yourself", input=spec["name"])
        shape = [1 if d is None else d for d in spec["shape"]]
        # NumPy has no dtype named "string": text warms up on an object array of str, as the wire delivers it.
        out.append(np.full(shape, "", dtype=object) if spec["dtype"] == STRING else np.zeros(shape, dtype=spec["dtype"]))
    return out


class Served:
    """One loaded version: the model, and the private folder its files were written to (if any)."""

    def __init__(self, model: KerasModel | SavedModelGraph, folder: str | None):
        self.model = model
        self.folder = folder

    def close(self) -> None:
        close = getattr(self.model, "close", None)
        if close:
            close()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


class ServedModels:
    def __init__(self) -> None:
        self._models: dict[str, Served] = {}
        #: The error of the last failed load per key: a request queued behind that load gets this
        #: error, with its traceback, rather than a bare "not loaded".
        self._failed: dict[str, BaseException] = {}

    def __len__(self) -> int:
        return len(self._models)

    def ensure(self, payload: Any, arrays: list[np.ndarray]) -> tuple[Served, bool]:
        """The version `payload` describes, loaded (and warmed) unless this worker has it; (it, loaded now)."""
        if not isinstance(payload, dict):
            raise BadRequest("load: an object {key, source, sourceArrays, warmup}")
        key = _check_key(payload.get("key"))
        n = payload.get("sourceArrays", 0)
        warmup = payload.get("warmup") or {}
        given = warmup.get("given", 0) if isinstance(warmup, dict) else None
        if type(n) is not int or type(given) is not int or n < 0 or given < 0 or n + given != len(arrays):
            raise BadRequest("load: sourceArrays source arrays, then warmup.given warm-up arrays, and no others")
        if key in self._models:
            # Warm already (the same bytes as a version loaded before); its warm-up names are still checked.
            if isinstance(warmup, dict) and (given or warmup.get("names") is not None):
                _by_name(self._models[key].model, warmup.get("names"), arrays[n:])
            return self._models[key], False
        self._failed.pop(key, None)
        try:
            served = self._open(payload.get("source"), arrays[:n])
        except Exception as exc:
            self._failed[key] = exc
            raise
        try:
            self._warm(served.model, warmup, arrays[n:])
        except Exception as exc:
            served.close()
            self._failed[key] = exc
            raise
        self._models[key] = served
        return served, True

    def _open(self, source: Any, arrays: list[np.ndarray]) -> Served:
        kind = source.get("kind") if isinstance(source, dict) else None
        if kind == "config":
            check_seed(source.get("seed"))
            names = source.get("weights", [])
            weights = weights_by_layer(names, arrays) if names else None
            return Served(KerasModel.from_config(source.get("config"), weights, None if names else source.get("seed", 0)), None)
        if kind == "files":
            root = source.get("root")
            if not isinstance(root, str) or not root or "/" in root or root in (".", ".."):
                raise BadRequest(f"source.root must be the model's file or folder name, got {root!r}")
            folder = tempfile.mkdtemp(prefix="tfbridge-served-")
            try:
                _write_files(folder, source.get("files"), arrays)
                shown = source.get("shownAs")
                model = load_model_file(os.path.join(folder, root), shown if isinstance(shown, str) and shown else root)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            # Keep the folder: a SavedModel's Session reads its variables when first built.
            return Served(model, folder)
        raise BadRequest(f"source.kind must be 'files' or 'config', got {kind!r}")

    def _warm(self, model: KerasModel | SavedModelGraph, warmup: dict, given: list[np.ndarray]) -> None:
        """Runs one request in each mode asked for, so the first real one does not pay for building."""
        modes = warmup.get("modes", [])
        if not isinstance(modes, list) or any(m not in MODES for m in modes):
            raise ModelError(f"warmup.modes must be a list of {', '.join(MODES)}, got {modes!r}")
        named = warmup.get("names") is not None
        inputs = _by_name(model, warmup.get("names"), given) if given or named else (_signature_inputs(model) if modes else [])
        for mode in modes:
            model.predict(inputs, mode)

    def get(self, key: Any) -> Served:
        served = self._models.get(key) if isinstance(key, str) else None
        if served is None and key in self._failed:
            raise self._failed[key]
        if served is None:
            raise ModelError(f"model version {key} is not loaded on this worker")
        return served

    def unload(self, key: Any) -> bool:
        served = self._models.pop(key, None) if isinstance(key, str) else None
        self._failed.pop(key, None)
        if served is not None:
            served.close()
        return served is not None


def _by_name(model: KerasModel | SavedModelGraph, names: Any, given: list[np.ndarray]) -> list[np.ndarray]:
    """Warm-up inputs in the model's input order: as given, or by `names` (one per given array)."""
    if names is None:
        return given
    expected = [i["name"] for i in model.inputs]
    if not isinstance(names, list) or len(names) != len(given) or not all(isinstance(n, str) for n in names):
        raise ModelError(f"warmup.names must name each of the {len(given)} warm-up input(s), got {names!r}")
    unknown = sorted(set(names) - set(expected))
    missing = [n for n in expected if n not in names]
    if unknown or missing or len(set(names)) != len(names):
        why = "; ".join(filter(None, [f"unknown {', '.join(unknown)}" if unknown else "", f"missing {', '.join(missing)}" if missing else ""])) or "a name given twice"
        raise ModelError(f"warm-up inputs by name must be the model's inputs ({', '.join(expected)}) once each: {why}", input=(unknown or missing or [None])[0])
    return [given[names.index(n)] for n in expected]

"""Models run by description (the ``model.run`` op): built on first use, kept by what describes them.

A request names a model by its config and weights (or seed), not by a handle, so any worker of a pool
can answer it; the cache makes the second request with the same description cost only the run.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

import numpy as np

from .model import KerasModel


def description_key(config: Any, weights: dict[str, list[np.ndarray]] | None, seed: int | None) -> str:
    """A digest of config, weights (names, dtypes, shapes and bytes) and seed: equal digests, equal models."""
    h = hashlib.sha256(json.dumps([config, seed], sort_keys=True).encode())
    for layer in sorted(weights or {}):
        for i, w in enumerate(weights[layer]):
            h.update(f"{layer}/{i}:{w.dtype.str}:{w.shape}".encode())
            h.update(np.ascontiguousarray(w).data)  # hashed in place, not copied
    return h.hexdigest()


class ModelRuns:
    """Built models by description, least recently used closed first."""

    def __init__(self, capacity: int = 16):
        self.capacity = capacity
        self._models: OrderedDict[str, KerasModel] = OrderedDict()

    def get(self, config: Any, weights: dict[str, list[np.ndarray]] | None, seed: int | None) -> KerasModel:
        key = description_key(config, weights, seed)
        model = self._models.get(key)
        if model is None:
            model = KerasModel.from_config(config, weights, seed)
            self._models[key] = model
            while len(self._models) > self.capacity:
                self._models.popitem(last=False)[1].close()
        self._models.move_to_end(key)
        return model

    def __len__(self) -> int:
        return len(self._models)

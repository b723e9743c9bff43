"""The worker's open models, by handle id: created by load or build, freed by dispose."""

from __future__ import annotations

import secrets

from ..errors import ModelError
from .model import KerasModel


class ModelHandles:
    def __init__(self, capacity: int = 64):
        self.capacity = capacity
        self._models: dict[str, KerasModel] = {}

    def add(self, model: KerasModel) -> str:
        if len(self._models) >= self.capacity:
            model.close()
            raise ModelError(f"this worker already holds {self.capacity} models; dispose() some first")
        handle = secrets.token_hex(8)
        self._models[handle] = model
        return handle

    def get(self, handle: object) -> KerasModel:
        model = self._models.get(handle) if isinstance(handle, str) else None
        if model is None:
            raise ModelError(f"no model with handle {handle!r} on this worker (disposed, or loaded on another worker?)")
        return model

    def dispose(self, handle: object) -> bool:
        model = self._models.pop(handle, None) if isinstance(handle, str) else None
        if model is not None:
            model.close()
        return model is not None

    def __len__(self) -> int:
        return len(self._models)

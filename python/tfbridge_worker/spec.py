"""LSTM spec validation and default resolution, driven by protocol/lstm-spec.json.

The TypeScript half validates the same schema before sending; this side checks again because the
wire is never trusted.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .errors import SpecError
from .protocol import LSTM_SPEC

FIELDS: dict[str, dict] = LSTM_SPEC["fields"]
WEIGHT_SHAPES: dict[str, list[str]] = {k: v for k, v in LSTM_SPEC["weights"].items() if not k.startswith("$")}
MODES: list[str] = LSTM_SPEC["modes"]


def _check_int(field: str, rule: dict, value: Any) -> int:
    if type(value) is not int:
        raise SpecError(field, f"must be an integer, got {value!r}")
    if value < rule.get("min", value) or value > rule.get("max", value):
        raise SpecError(field, f"must be between {rule['min']} and {rule['max']}, got {value}")
    return value


def _check(field: str, rule: dict, value: Any) -> Any:
    kind = rule["type"]
    if kind == "int":
        return _check_int(field, rule, value)
    if kind == "bool":
        if type(value) is not bool:
            raise SpecError(field, f"must be true or false, got {value!r}")
        return value
    if kind == "enum":
        if value not in rule["values"]:
            raise SpecError(field, f"must be one of {', '.join(rule['values'])}, got {value!r}")
        return value
    if kind == "dims":
        if not isinstance(value, list) or len(value) != rule["length"]:
            raise SpecError(field, f"must be a list of {rule['length']} integers ({rule.get('doc', '')}), got {value!r}")
        return [_check_int(f"{field}[{i}]", rule, v) for i, v in enumerate(value)]
    raise AssertionError(f"lstm-spec.json has an unknown field type {kind!r}")


def resolve(spec: Any) -> dict:
    """The spec with every field present and checked; SpecError names the first bad field."""
    if not isinstance(spec, Mapping):
        raise SpecError("spec", f"must be an object, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(FIELDS))
    if unknown:
        raise SpecError(unknown[0], f"is not a spec field (known: {', '.join(FIELDS)})")
    resolved = {}
    for field, rule in FIELDS.items():
        if field in spec:
            resolved[field] = _check(field, rule, spec[field])
        elif rule.get("required"):
            raise SpecError(field, "is required")
        else:
            resolved[field] = rule["default"]
    return resolved


def _dim(token: str, spec: dict) -> int:
    sizes = {"units": spec["units"], "timesteps": spec["inputShape"][0], "features": spec["inputShape"][1]}
    factor, _, name = token.rpartition("*")
    return (int(factor) if factor else 1) * sizes[name]


def weight_shapes(spec: dict) -> dict[str, tuple[int, ...]]:
    """The shape each explicit weight must have for a resolved spec (bias only with useBias)."""
    shapes = {name: tuple(_dim(t, spec) for t in dims) for name, dims in WEIGHT_SHAPES.items()}
    if not spec["useBias"]:
        del shapes["bias"]
    return shapes


def check_weights(spec: dict, weights: Mapping[str, np.ndarray]) -> None:
    expected = weight_shapes(spec)
    for name in weights:
        if name not in expected:
            reason = "is not used when useBias is false" if name == "bias" else "is not an LSTM weight"
            raise SpecError(f"weights.{name}", reason)
    for name, shape in expected.items():
        if name not in weights:
            raise SpecError(f"weights.{name}", f"is missing (explicit weights need {', '.join(expected)})")
        w = weights[name]
        if tuple(w.shape) != shape:
            raise SpecError(f"weights.{name}", f"must have shape {list(shape)}, got {list(w.shape)}")
        if w.dtype != np.dtype(spec["dtype"]):
            raise SpecError(f"weights.{name}", f"must be {spec['dtype']} like the spec, got {w.dtype}")


def check_input(spec: dict, x: np.ndarray) -> None:
    timesteps, features = spec["inputShape"]
    if x.ndim != 3 or x.shape[1:] != (timesteps, features) or x.shape[0] < 1:
        raise SpecError("input", f"must have shape [batch, {timesteps}, {features}], got {list(x.shape)}")
    if x.dtype != np.dtype(spec["dtype"]):
        raise SpecError("input", f"must be {spec['dtype']} like the spec, got {x.dtype}")

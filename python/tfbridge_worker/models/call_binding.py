"""One call of a layer with its arguments bound to the names of its ``call`` signature, as Python binds
them: positional arguments in the signature's order (protocol/layers.json ``call`` lists a layer's call
arguments in that order), then keyword arguments by name. src/models/call-binding.ts is the same."""

from __future__ import annotations

from typing import Any


def bind_call(node: dict, names: list[str]) -> tuple[dict[str, Any], list[str], list[str]]:
    """(every argument given, by name; unknown keyword arguments and positional ones past the
    signature's end as ``#i``; names given both by position and by keyword)."""
    given: dict[str, Any] = {}
    unknown: list[str] = []
    twice: list[str] = []
    for i, value in enumerate(node.get("args") or []):
        if i < len(names):
            given[names[i]] = value
        else:
            unknown.append(f"#{i}")
    for key, value in (node.get("kwargs") or {}).items():
        if key not in names:
            unknown.append(key)
        elif key in given:
            twice.append(key)
        else:
            given[key] = value
    return given, unknown, twice

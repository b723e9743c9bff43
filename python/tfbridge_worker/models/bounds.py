"""Bounds on a model config's size and shape, checked before Keras builds anything (protocol/bounds.json).

Keras's own costs grow past what a worker survives well before a config is large: building takes
seconds per hundred layers, a Sequential is built from its config by rebuilding it after every layer
added (time grows with the square of its length: 500 layers took over a minute), and Python's
parsers and tfbridge's own scan recurse into nested JSON. So the layer count, the layers of one
Sequential and the JSON nesting depth are bounded; every Keras Application fits well inside each
(docs/security.md).
The walks here are iterative, so a config too deep for a recursive one is refused, not crashed on.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..errors import ModelError
from ..protocol import BOUNDS

CONFIG_BOUNDS: dict[str, int] = BOUNDS["config"]
MAX_LAYERS: int = CONFIG_BOUNDS["maxLayers"]
MAX_SEQUENTIAL_LAYERS: int = CONFIG_BOUNDS["maxSequentialLayers"]
MAX_DEPTH: int = CONFIG_BOUNDS["maxDepth"]
MAX_CONFIG_BYTES: int = CONFIG_BOUNDS["maxBytes"]


def _over(source: str | None, what: str, found: int, shown: str, bound: str, limit: int) -> ModelError:
    """The refusal for a bound: names the file (when known), what was counted, and the bound."""
    return ModelError(
        f"{source or 'config'}: {what} is {shown}, over the bound of {limit:,} ({bound}; docs/security.md); "
        "refused before Keras read it",
        file=source, bound=bound, limit=limit, found=found,
    )


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply `value`'s lists and objects nest (a scalar: 0), counting no further than `limit` + 1."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        deepest = max(deepest, depth)
        if depth > limit:
            break
        stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _objects(value: Any) -> Iterator[dict]:
    """Every object in `value`, depth first (iterative)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def check_config_bounds(config: Any, source: str | None = None) -> None:
    """Refuses a config over a bound: nesting depth, layers in all, layers of one Sequential.

    :raises ModelError: naming the file, what was counted, the count and the bound (``details.bound``,
        ``details.limit``, ``details.found``).
    """
    depth = nesting_depth(config, MAX_DEPTH)
    if depth > MAX_DEPTH:
        raise _over(source, "the config's nesting depth", depth, f"more than {MAX_DEPTH}", "maxDepth", MAX_DEPTH)
    models = []
    for node in _objects(config):
        inner = node.get("config")
        layers = inner.get("layers") if isinstance(inner, dict) else None
        if isinstance(layers, list):
            models.append((str(inner.get("name", "?")), node.get("class_name") == "Sequential", layers))
    total = sum(len(layers) for _, _, layers in models)
    if total > MAX_LAYERS:
        raise _over(source, "the number of layers (nested models' layers included)", total, str(total), "maxLayers", MAX_LAYERS)
    for name, sequential, layers in models:
        if sequential and len(layers) > MAX_SEQUENTIAL_LAYERS:
            raise _over(source, f"the number of layers of Sequential {name}", len(layers), str(len(layers)),
                       "maxSequentialLayers", MAX_SEQUENTIAL_LAYERS)

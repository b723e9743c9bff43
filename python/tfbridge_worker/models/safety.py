"""Refuses a model config that would make Keras run or import code, before Keras deserializes it.

Keras's ``safe_mode`` stops a serialized Python lambda, but a config can still name a Lambda layer, a
class from the user's own module (Keras imports it), a custom registered class, or a Keras function
that does something when called (``keras.utils.get_file`` downloads). So the whole config, nested
models included, is checked here first: every object it names must be a built-in Keras class, and
functions may only be Keras activations. Nothing from the file is imported or run; the refusal names
the file and every offending layer.
"""

from __future__ import annotations

from typing import Any

import keras

from ..errors import ModelError
from .bounds import check_config_bounds
from .refusal import capped, class_counts
from .schema import MODEL_CLASSES

CODE_CLASSES = {
    "Lambda": "runs Python code stored in the model",
    "__lambda__": "is Python bytecode stored in the model",
    "TFSMLayer": "loads another model from a path its config names",
    "TorchModuleWrapper": "unpickles a PyTorch module stored in the model",
}
# The only modules a serialized function may come from: activations compute, they do not act.
FUNCTION_MODULES = ("keras.activations", "keras.src.activations")
# Keras 2 configs (.h5) name classes without a module; Keras looks them up in these namespaces.
_NAMESPACES = (
    keras.layers, keras.models, keras.initializers, keras.regularizers, keras.constraints,
    keras.activations, keras.dtype_policies, keras.mixed_precision,
)
# Keys Keras does not deserialize when loading with compile=False, as tfbridge does.
_UNREAD_KEYS = frozenset({"compile_config"})


def _is_keras_module(module: str) -> bool:
    return module == "keras" or module.startswith("keras.")


def _why_unsafe(node: dict) -> str | None:
    """Why Keras would import or run code to deserialize this object, or None."""
    cls = node["class_name"]
    module = node.get("module")
    registered = node.get("registered_name")
    if cls in CODE_CLASSES:
        return CODE_CLASSES[cls]
    # The module first: a data-wrapper name does not make a foreign module safe to import.
    if module is not None and not (isinstance(module, str) and _is_keras_module(module)):
        return f"is a class from module {module!r}, which Keras would import"
    if cls.startswith("__") and cls.endswith("__"):
        return None  # Keras's own data wrappers (__keras_tensor__, __numpy__, __tensor__, ...)
    if cls == "function":
        name = node.get("config")
        if not (isinstance(module, str) and module.startswith(FUNCTION_MODULES)):
            return f"refers to the function {module}.{name}, which Keras would look up and call; only activations are allowed"
        return None
    if registered is not None and registered != cls:
        return f"is a custom or registered class ({registered!r}), whose code Keras would need"
    # Model classes first: Functional is in no public namespace.
    if module is None and cls not in MODEL_CLASSES and not any(hasattr(ns, cls) for ns in _NAMESPACES):
        return "is not a built-in Keras class (a custom class, whose code Keras would need)"
    return None


def _scan(node: Any, layer: str, field: tuple[str, ...], problems: list[dict]) -> None:
    """Every unsafe object under `node`, with its layer and the field it sits in under that layer
    (``kernel_initializer``, ``recurrent_constraint``, ``activation``: code hides there as well as in layers)."""
    if isinstance(node, list):
        for value in node:
            _scan(value, layer, field, problems)
        return
    if not isinstance(node, dict):
        return
    cls = node.get("class_name")
    if isinstance(cls, str):
        config = node.get("config")
        if isinstance(config, dict) and isinstance(config.get("name"), str):
            layer, field = config["name"], ()
        reason = _why_unsafe(node)
        if reason is not None:
            problem = {"layer": layer, "class": cls, "reason": reason}
            if field:
                problem["field"] = ".".join(field)
            problems.append(problem)
            return  # its inside is never deserialized
    for key, value in node.items():
        if key not in _UNREAD_KEYS:
            _scan(value, layer, field if key == "config" else (*field, key), problems)


def refuse_code(config: Any, source: str | None = None) -> None:
    """Raises if `config` names anything Keras would import or run code for, or is over a bound of bounds.py
    (checked first: the scan below recurses, and a config within the bounds is shallow).

    :raises ModelError: naming the bound, or the file, the first offending layer, and every problem (``details.problems``:
        layer, class, reason, and the field under that layer where the object is not the layer itself).
    """
    check_config_bounds(config, source)
    problems: list[dict] = []
    _scan(config, "?", (), problems)
    if not problems:
        return
    where = source or "config"
    listed = "; ".join(f"{p['layer']}{' ' + p['field'] if 'field' in p else ''} ({p['class']}) {p['reason']}" for p in problems)
    message = (
        f"{where}: refused before Keras read it, so nothing in it ran: {class_counts(problems)}. "
        f"tfbridge loads only built-in Keras classes (no Lambda, no custom code): {listed}"
    )
    raise ModelError(capped(message), file=source, layer=problems[0]["layer"], problems=problems)

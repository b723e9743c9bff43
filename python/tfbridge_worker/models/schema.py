"""Checks whether a Keras 3 model config has a TF.js twin, against protocol/layers.json, and makes every
default explicit.

Python runs any model Keras 3 loads in safe mode (safety.py keeps code out); this schema gates only
what the TF.js twin needs: a model outside it still runs in the worker, its handle just says
``tfjs.supported: false`` with the problems. The TypeScript half (src/models/schema.ts) applies the
same rules. Every problem in a config is collected, so one answer names every layer at once.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from ..errors import ModelError
from ..protocol import LAYERS, MODELS
from .call_binding import bind_call
from .refusal import capped, class_counts

LAYER_SCHEMA: dict[str, dict] = LAYERS["layers"]
ACTIVATIONS: dict[str, str] = {k: v for k, v in LAYERS["activations"].items() if not k.startswith("$")}
INERT: frozenset[str] = frozenset(LAYERS["inert"])
DTYPE_POLICIES: tuple[str, ...] = tuple(LAYERS["dtypePolicies"]["values"])
# Per module, the classes of operation nodes that compute masks (layers.json maskOps).
MASK_OPS: dict[str, frozenset[str]] = {
    module: frozenset(classes)
    for module, classes in {LAYERS["maskOps"]["module"]: LAYERS["maskOps"]["classes"], **LAYERS["maskOps"].get("otherModules", {})}.items()
}
OPERATIONS: dict[str, dict[str, dict]] = {k: v for k, v in LAYERS["operations"].items() if not k.startswith("$")}
MODEL_CLASSES: tuple[str, ...] = tuple(MODELS["modelClasses"])
# Where Keras 3 finds each class when a hand-written config leaves "module" out.
MODEL_MODULES: dict[str, str] = MODELS["modelModules"]
CODE_LAYERS: dict[str, str] = MODELS["codeLayers"]


def _problem(problems: list, layer: str, cls: str, reason: str, field: str | None = None) -> None:
    entry = {"layer": layer, "class": cls, "reason": reason}
    if field is not None:
        entry["field"] = field
    problems.append(entry)


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_numbers(v: Any) -> bool:
    """A finite number, or a non-empty list (nested to any depth) of them: Normalization's mean and variance."""
    if type(v) in (int, float):
        return math.isfinite(v)
    return isinstance(v, list) and len(v) > 0 and all(_is_numbers(x) for x in v)


def _check_arg(rule: dict, value: Any) -> str | None:
    """Why `value` breaks `rule`, or None."""
    kind = rule["type"]
    if value is None and rule.get("nullable"):
        return None
    if kind == "int":
        if not _is_int(value):
            return f"must be an integer, got {value!r}"
        if not rule["min"] <= value <= rule["max"]:
            return f"must be between {rule['min']} and {rule['max']}, got {value}"
    elif kind == "float":
        if type(value) not in (int, float) or value != value:
            return f"must be a number, got {value!r}"
        if not rule["min"] <= value <= rule["max"]:
            return f"must be between {rule['min']} and {rule['max']}, got {value}"
    elif kind == "bool":
        if type(value) is not bool:
            return f"must be true or false, got {value!r}"
    elif kind == "enum":
        if value not in rule["values"]:
            return f"must be one of {', '.join(map(str, rule['values']))}, got {value!r}"
    elif kind == "activation":
        if value not in ACTIVATIONS:
            return f"activation {value!r} is not supported (supported: {', '.join(ACTIVATIONS)})"
    elif kind == "ints":
        if not isinstance(value, list) or len(value) != rule["length"] or not all(_is_int(v) for v in value):
            return f"must be a list of {rule['length']} integer(s), got {value!r}"
        if not all(rule["min"] <= v <= rule["max"] for v in value):
            return f"values must be between {rule['min']} and {rule['max']}, got {value}"
    elif kind == "pairs":
        pair = lambda v: isinstance(v, list) and len(v) == 2 and all(_is_int(x) for x in v)  # noqa: E731
        if not isinstance(value, list) or len(value) != rule["length"] or not all(pair(v) for v in value):
            return f"must be a list of {rule['length']} [before, after] integer pair(s), got {value!r}"
        if not all(rule["min"] <= x <= rule["max"] for v in value for x in v):
            return f"values must be between {rule['min']} and {rule['max']}, got {value}"
    elif kind == "shape":
        if not isinstance(value, list) or not all(v is None or _is_int(v) for v in value):
            return f"must be a list of integers (null for a free dimension), got {value!r}"
    elif kind == "axis":
        if not (_is_int(value) or (isinstance(value, list) and value and all(_is_int(v) for v in value))):
            return f"must be an integer or a list of integers, got {value!r}"
    elif kind == "const":
        if value != rule["value"] or type(value) is not type(rule["value"]):
            return f"only {rule['value']!r} is supported, got {value!r}"
    elif kind == "numbers":
        if not _is_numbers(value):
            return f"must be a number or a (nested) list of numbers, got {value!r}"
    elif kind == "tensor":
        if not _is_tensor(value):
            return f"must be a Keras tensor, got {value!r:.80}"
    elif kind == "tensors":
        if not isinstance(value, list) or not all(_is_tensor(v) for v in value):
            return f"must be a list of Keras tensors, got {value!r:.80}"
        if not rule["min"] <= len(value) <= rule["max"]:
            return f"must be a list of {rule['min']} to {rule['max']} tensors, got {len(value)}"
    elif kind == "mask":
        if not (value is None or _is_tensor(value) or (isinstance(value, list) and all(v is None or _is_tensor(v) for v in value))):
            return f"must be a Keras mask tensor (or a list of them), got {value!r:.80}"
    elif kind not in ("layer", "inert"):
        raise AssertionError(f"layers.json has an unknown argument type {kind!r}")
    return None


def _is_tensor(value: Any) -> bool:
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


def _check_calls(entry: dict, name: str, call: dict, problems: list) -> None:
    """Each call of a layer with ``call`` rules (layers.json): every argument known, of its type, given
    once; the required ones present. Flags that differ between calls are the twin's to refuse."""
    cls = entry["class_name"]
    for node in entry.get("inbound_nodes") or []:
        if not isinstance(node, dict):
            continue
        given, unknown, twice = bind_call(node, list(call))
        for key in unknown:
            _problem(problems, name, cls, f"call argument {key} is not supported for {cls}", key)
        for key in twice:
            _problem(problems, name, cls, f"call argument {key} is given twice (by position and by name)", key)
        for key, rule in call.items():
            if key not in given:
                if rule.get("required"):
                    _problem(problems, name, cls, f"call argument {key} is required", key)
                continue
            reason = _check_arg(rule, given[key])
            if reason:
                _problem(problems, name, cls, f"call argument {key} {reason}", key)


def _dtype_name(dtype: Any) -> Any:
    """A layer's dtype: a string, or Keras 3's DTypePolicy object as a dict."""
    if isinstance(dtype, dict):
        return dtype.get("config", {}).get("name")
    return dtype


def check_layer(entry: Any, problems: list, allowed: tuple[str, ...] | None = None) -> dict | None:
    """The layer entry ({class_name, config, ...}) with its config resolved; problems appended."""
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        _problem(problems, "?", "?", f"a layer must be an object with class_name and config, got {entry!r:.80}")
        return None
    cls = entry.get("class_name")
    config = entry["config"]
    name = str(config.get("name") or entry.get("name") or "?")
    if cls in CODE_LAYERS:
        _problem(problems, name, cls, CODE_LAYERS[cls])
        return None
    if allowed is None and is_operation(entry):
        return _check_operation(entry, name, str(cls), problems)
    if cls in MODEL_CLASSES and allowed is None:
        return _check_nested_model(entry, name, problems)
    schema = LAYER_SCHEMA.get(cls) if isinstance(cls, str) else None
    registered = entry.get("registered_name")
    if schema is None or (registered not in (None, cls)) or (allowed is not None and cls not in allowed):
        where = f"inside this wrapper the TF.js twin takes only {', '.join(allowed)}" if allowed else "tfbridge has no TF.js twin for it"
        custom = " (a custom or registered class)" if registered not in (None, cls) else ""
        _problem(problems, name, str(cls), f"layer class {cls}{custom}: {where}")
        return None
    if cls != "InputLayer" and "dtype" in config and _dtype_name(config["dtype"]) not in (None, *DTYPE_POLICIES):
        _problem(problems, name, cls, f"dtype policy {_dtype_name(config['dtype'])!r} is not supported; only {', '.join(DTYPE_POLICIES)}", "dtype")
    resolved = _check_args(entry, name, cls, schema["args"], problems)
    if "call" in schema and allowed is None:
        _check_calls(entry, name, schema["call"], problems)
    out = resolved["config"]
    if cls == "Bidirectional" and out.get("backward_layer") and out.get("layer"):
        _check_mirror(name, out["layer"], out["backward_layer"], problems)
    return resolved


def _check_args(entry: dict, name: str, cls: str, args: dict, problems: list) -> dict:
    """A copy of the entry with its arguments checked against `args` and defaults filled in."""
    config = entry["config"]
    resolved = copy.deepcopy(entry)
    resolved.setdefault("module", "keras.layers")
    out = resolved["config"]
    for key, value in config.items():
        rule = args.get(key)
        if rule is None:
            if key not in INERT:
                _problem(problems, name, cls, f"argument {key!r} is not supported for {cls}", key)
            continue
        if rule["type"] == "layer":
            if value is None and rule.get("nullable"):
                continue
            out[key] = check_layer(value, problems, tuple(rule["classes"]))
            continue
        reason = _check_arg(rule, value)
        if reason:
            _problem(problems, name, cls, f"{key} {reason}", key)
    for key, rule in args.items():
        if key in config:
            continue
        if rule.get("required"):
            _problem(problems, name, cls, f"argument {key!r} is required", key)
        else:
            out[key] = copy.deepcopy(rule["default"])
    return resolved


def _check_mirror(name: str, forward: dict, backward: dict, problems: list) -> None:
    """Keras writes backward_layer as a copy of the forward layer with go_backwards flipped; TF.js can
    only build that copy, so anything else would silently become a different model."""
    ignore = {"name", "go_backwards"} | INERT
    f = {k: v for k, v in forward["config"].items() if k not in ignore}
    b = {k: v for k, v in backward["config"].items() if k not in ignore}
    same = forward["class_name"] == backward["class_name"] and f == b
    if not same or forward["config"].get("go_backwards") == backward["config"].get("go_backwards"):
        _problem(problems, name, "Bidirectional", "a backward_layer that is not the forward layer run backwards is not supported", "backward_layer")


def is_mask_op_class(module: Any, class_name: Any) -> bool:
    """Is an operation of this module and class one of layers.json maskOps?"""
    return class_name in MASK_OPS.get(module, ())


def _is_mask_op_class(entry: Any) -> bool:
    """Of a class Keras 3 writes for its mask computations (see layers.json maskOps)?"""
    return isinstance(entry, dict) and is_mask_op_class(entry.get("module"), entry.get("class_name"))


def is_operation(entry: Any) -> bool:
    """An operation node (``x + y``, ``keras.ops.*``) rather than a layer?"""
    return isinstance(entry, dict) and isinstance(entry.get("module"), str) and entry["module"].startswith("keras.src.ops.")


def _refs(value: Any) -> list[str]:
    """The layer names of every serialized tensor inside an inbound node's args or kwargs."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]["keras_history"][0]]
        return [name for v in value.values() for name in _refs(v)]
    if isinstance(value, list):
        return [name for v in value for name in _refs(v)]
    return []


def call_arguments(entry: dict, node: dict) -> tuple[list, list]:
    """One call's arguments split by what they are to the layer: (values, [(name, mask)]). Masks are its
    ``mask`` keyword and a ``call`` rule's mask arguments (MultiHeadAttention's ``query_mask``)."""
    call = LAYER_SCHEMA.get(entry.get("class_name"), {}).get("call") if isinstance(entry.get("class_name"), str) else None
    if not call:
        kwargs = node.get("kwargs") or {}
        return [node.get("args")] + [v for k, v in kwargs.items() if k != "mask"], [("mask", kwargs.get("mask"))]
    given, _, _ = bind_call(node, list(call))
    return ([v for k, v in given.items() if call.get(k, {}).get("type") != "mask"],
            [(k, v) for k, v in given.items() if call.get(k, {}).get("type") == "mask"])


def mask_only_operations(model: dict) -> set[str]:
    """The operation nodes that only compute masks: of a maskOps class, and whose outputs reach nothing but
    mask arguments and other such nodes. The TF.js twin drops them (TF.js derives the same masks);
    one whose output is a value (a user's ``ops.concatenate``) is not."""
    layers = [e for e in model["config"].get("layers") or [] if isinstance(e, dict)]
    only = {e["config"].get("name") for e in layers if _is_mask_op_class(e) and isinstance(e.get("config"), dict)}
    outputs = model["config"].get("output_layers") or []
    for ref in outputs if outputs and isinstance(outputs[0], list) else [outputs]:
        if ref:
            only.discard(ref[0])
    changed = True
    while changed:
        changed = False
        for entry in layers:
            if not isinstance(entry.get("config"), dict) or entry["config"].get("name") in only:
                continue
            for node in entry.get("inbound_nodes") or []:
                if not isinstance(node, dict):
                    continue
                for name in _refs(call_arguments(entry, node)[0]):
                    if name in only:
                        only.discard(name)
                        changed = True
    return only


def _is_slice(v: Any) -> bool:
    return isinstance(v, dict) and v.get("class_name") == "__slice__" and all(x is None or _is_int(x) for x in (v.get("config") or {}).values())


def _operation_arg_problem(cls: str, value: Any) -> str | None:
    """Why one positional argument of an operation node is not one the twin computes with, or None."""
    if isinstance(value, list):
        if cls == "GetItem":
            return None if all(_is_int(v) or _is_slice(v) for v in value) else "an index other than integers and slices"
        return next((p for p in (_operation_arg_problem(cls, v) for v in value) if p), None)
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        dtype = (value.get("config") or {}).get("dtype")
        return None if dtype in (None, "float32") else f"a {dtype} tensor (the twin computes operations in float32)"
    if cls == "GetItem" and (_is_int(value) or _is_slice(value)):
        return None
    ok = type(value) in (int, float) and value == value and value not in (float("inf"), float("-inf"))
    return None if ok else f"the argument {value!r:.60}"


def _check_operation(entry: dict, name: str, cls: str, problems: list) -> dict | None:
    """An operation node checked against layers.json ``operations``; mask-only ones are passed over before."""
    rule = OPERATIONS.get(entry.get("module"), {}).get(cls)
    if rule is None:
        _problem(problems, name, cls, f"operation {cls} ({entry['module']}): the TF.js twin has no counterpart for it")
        return None
    resolved = _check_args(entry, name, cls, rule["args"], problems)
    for node in entry.get("inbound_nodes") or []:
        if not isinstance(node, dict):
            continue
        for value in node.get("args") or []:
            problem = _operation_arg_problem(cls, value)
            if problem:
                _problem(problems, name, cls, f"operation {cls} with {problem}: the TF.js twin computes it with float32 tensors and numbers only")
        for key, value in (node.get("kwargs") or {}).items():
            if value is not None:
                _problem(problems, name, cls, f"operation {cls} called with {key}: not supported by the TF.js twin", key)
    return resolved


def _check_layers(model: dict, problems: list) -> list:
    """Every layer and operation of a model (or nested model) checked, mask-only operations passed over; problems appended."""
    mask_only = mask_only_operations(model)
    _check_mask_sources(model, mask_only, problems)
    return [copy.deepcopy(e) if isinstance(e, dict) and isinstance(e.get("config"), dict) and e["config"].get("name") in mask_only
            else check_layer(e, problems) for e in model["config"]["layers"]]


def _check_mask_sources(model: dict, mask_only: set, problems: list) -> None:
    """A mask argument (``mask``, or a ``call`` rule's mask such as ``query_mask``) must be the output of
    Keras's own mask bookkeeping (the masks it derives from Embedding, Masking and merges), as TF.js
    derives exactly those itself: a mask the model passes from elsewhere (``Softmax(x, mask=some_input)``)
    would be dropped, a silently different model."""
    for entry in model["config"]["layers"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict) or entry["config"].get("name") in mask_only:
            continue
        for node in entry.get("inbound_nodes") or []:
            if not isinstance(node, dict):
                continue
            for field, mask in call_arguments(entry, node)[1]:
                for name in _refs(mask):
                    if name not in mask_only:
                        _problem(problems, entry["config"].get("name", "?"), entry["class_name"],
                                 f"takes the output of {name} as its {field}: the TF.js twin derives masks only as Keras does from Embedding(mask_zero), Masking and merges", field)


def _check_nested_model(entry: dict, name: str, problems: list) -> dict | None:
    """A model used as a layer (a transfer-learning base): its layers checked as a model's, problems
    named by path (``base/conv``). The TF.js twin expands it into its layers (src/tfjs/flatten.ts)."""
    layers = entry["config"].get("layers")
    if not isinstance(layers, list) or not layers:
        _problem(problems, name, entry["class_name"], "a nested model without layers")
        return None
    inner: list = []
    resolved = _check_layers(entry, inner)
    problems.extend({**p, "layer": f"{name}/{p['layer']}"} for p in inner)
    out = copy.deepcopy(entry)
    out["config"]["layers"] = resolved
    return out


def check_model_config(model: Any, source: str | None = None) -> dict:
    """The model config with every layer checked and every default explicit: what the TF.js twin uses.

    :raises ModelError: not a model config, or listing every layer and argument without a twin
        (``details.problems``).
    """
    if not isinstance(model, dict) or model.get("class_name") not in MODEL_CLASSES or not isinstance(model.get("config"), dict):
        got = model.get("class_name") if isinstance(model, dict) else type(model).__name__
        raise ModelError(
            f"{source or 'config'}: not a Keras model config (expected class_name {', '.join(MODEL_CLASSES)}, got {got!r})",
            file=source,
        )
    layers = model["config"].get("layers")
    if not isinstance(layers, list) or not layers:
        raise ModelError(f"{source or 'config'}: the model has no layers", file=source)
    problems: list = []
    resolved_layers = _check_layers(model, problems)
    if model["class_name"] == "Sequential" and not any(e and e["class_name"] == "InputLayer" for e in resolved_layers):
        problems.append({"layer": "?", "class": "Sequential", "reason": "the Sequential model has no InputLayer, so its input shape is unknown"})
    if problems:
        listed = "; ".join(f"{p['layer']} ({p['class']}): {p['reason']}" for p in problems)
        message = f"{source or 'config'}: no TF.js twin for {class_counts(problems)}: {listed}"
        raise ModelError(capped(message), file=source, problems=problems)
    out = copy.deepcopy(model)
    out.setdefault("module", MODEL_MODULES[model["class_name"]])
    if model["class_name"] != "Sequential":
        out.setdefault("registered_name", "Functional")
    out["config"]["layers"] = resolved_layers
    return out


def with_modules(model: dict) -> dict:
    """A copy of a model config with the `module` Keras 3 needs where a hand-written one leaves it out."""
    out = copy.deepcopy(model)
    if isinstance(out, dict) and out.get("class_name") in MODEL_MODULES:
        out.setdefault("module", MODEL_MODULES[out["class_name"]])
        if out["class_name"] != "Sequential":
            out.setdefault("registered_name", "Functional")
        for entry in out.get("config", {}).get("layers") or []:
            if isinstance(entry, dict) and entry.get("class_name") not in MODEL_MODULES:
                entry.setdefault("module", "keras.layers")
    return out


def tfjs_support(model: dict) -> tuple[dict | None, dict]:
    """(the resolved config, ``{"supported": True}``) when the model has a TF.js twin, else
    (None, ``{"supported": False, "problems": [...]}``) naming each layer without one."""
    try:
        return check_model_config(model), {"supported": True}
    except ModelError as exc:
        return None, {"supported": False, "problems": exc.details.get("problems") or [{"layer": "?", "class": "?", "reason": str(exc)}]}

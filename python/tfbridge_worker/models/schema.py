"""Checks whether a Keras 3 model config has a TF.js twin, against protocol/layers.json, and makes every
default explicit.

Python runs any model Keras 3 loads in safe mode (safety.py keeps code out); this schema gates only
what the TF.js twin needs: a model outside it still runs in the worker, its handle just says
``tfjs.supported: false`` with the problems. The TypeScript half (src/models/schema.ts) applies the
same rules. Every problem in a config is collected, so one answer names every layer at once.
"""

from __future__ import annotations

import copy
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
    elif kind == "shape":
        if not isinstance(value, list) or not all(v is None or _is_int(v) for v in value):
            return f"must be a list of integers (null for a free dimension), got {value!r}"
    elif kind == "axis":
        if not (_is_int(value) or (isinstance(value, list) and value and all(_is_int(v) for v in value))):
            return f"must be an integer or a list of integers, got {value!r}"
    elif kind == "const":
        if value != rule["value"] or type(value) is not type(rule["value"]):
            return f"only {rule['value']!r} is supported, got {value!r}"
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
    elif kind != "layer":
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
    if allowed is None and is_mask_op(entry):
        return copy.deepcopy(entry)  # checked by _check_mask_ops: it may only compute masks
    if isinstance(entry.get("module"), str) and entry["module"].startswith("keras.src.ops."):
        _problem(problems, name, str(cls), f"operation {cls} ({entry['module']}): the TF.js twin computes operation nodes only as Keras's mask bookkeeping")
        return None
    if cls in MODEL_CLASSES:
        _problem(problems, name, cls, "a nested model: the TF.js twin takes one flat graph of layers")
        return None
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


def is_mask_op(entry: Any) -> bool:
    """An operation node Keras 3 wrote for a mask computation (see layers.json maskOps)."""
    return isinstance(entry, dict) and is_mask_op_class(entry.get("module"), entry.get("class_name"))


def is_mask_op_class(module: Any, class_name: Any) -> bool:
    """Is an operation of this module and class one of layers.json maskOps?"""
    return class_name in MASK_OPS.get(module, ())


def _refs(value: Any) -> list[str]:
    """The layer names of every serialized tensor inside an inbound node's args or kwargs."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]["keras_history"][0]]
        return [name for v in value.values() for name in _refs(v)]
    if isinstance(value, list):
        return [name for v in value for name in _refs(v)]
    return []


def _check_call_masks(entry: dict, node: dict, call: dict, ops: set, problems: list) -> None:
    """A layer with ``call`` rules takes masks only as Keras derives them (its mask operations, which
    the twin derives the same way): a mask argument computed by anything else would be dropped by the
    twin, so it is refused; and a value argument may not be a mask operation's output."""
    layer = entry["config"].get("name", "?")
    given, _, _ = bind_call(node, list(call))
    for key, value in given.items():
        is_mask = call.get(key, {}).get("type") == "mask"
        for name in _refs(value):
            if is_mask and name not in ops:
                _problem(problems, layer, entry["class_name"], f"call argument {key} is a mask computed by {name}: the TF.js twin takes only the masks Keras derives (Embedding mask_zero, Masking)", key)
            if not is_mask and name in ops:
                _problem(problems, layer, entry["class_name"], f"computes with the output of operation {name}: the TF.js twin computes operation nodes only as mask computations", key)


def _check_mask_ops(model: dict, layers: list, problems: list) -> None:
    """Mask operation nodes may feed other mask operations and `mask` arguments, never a value."""
    ops = {e["config"].get("name") for e in layers if is_mask_op(e)}
    for entry in layers:
        if entry is None or is_mask_op(entry):
            continue
        call = LAYER_SCHEMA.get(entry["class_name"], {}).get("call")
        for node in entry.get("inbound_nodes") or []:
            if not isinstance(node, dict):
                continue
            if call:
                _check_call_masks(entry, node, call, ops, problems)
                continue
            values = [node.get("args")] + [v for k, v in (node.get("kwargs") or {}).items() if k != "mask"]
            for name in _refs(values):
                if name in ops:
                    _problem(problems, entry["config"].get("name", "?"), entry["class_name"], f"computes with the output of operation {name}: the TF.js twin computes operation nodes only as mask computations")
            # The twin derives masks itself and drops `mask` arguments: one Keras's masking did not
            # compute would silently be left out.
            for name in _refs((node.get("kwargs") or {}).get("mask")):
                if name not in ops:
                    _problem(problems, entry["config"].get("name", "?"), entry["class_name"], f"call argument mask is a mask computed by {name}: the TF.js twin takes only the masks Keras derives (Embedding mask_zero, Masking)", "mask")
    outputs = model["config"].get("output_layers") or []
    for ref in outputs if outputs and isinstance(outputs[0], list) else [outputs]:
        if ref and ref[0] in ops:
            _problem(problems, ref[0], "operation", "a model output cannot be a mask computation")


def _inbound_count(entry: dict) -> int:
    nodes = entry.get("inbound_nodes") or []
    return len(nodes) if isinstance(nodes, list) else 0


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
    resolved_layers = []
    for entry in layers:
        resolved = check_layer(entry, problems)
        if resolved is not None and _inbound_count(entry) > 1:
            _problem(problems, resolved["config"].get("name", "?"), entry["class_name"],
                     f"is called {_inbound_count(entry)} times: the TF.js twin does not share layers yet")
        resolved_layers.append(resolved)
    _check_mask_ops(model, resolved_layers, problems)
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

"""A request's arguments checked against protocol/ops.json before its op runs.

The TypeScript half types the same arguments (src/wire/ops.ts), but the worker never trusts the
wire: a missing, unknown or mistyped argument is a bad_request naming the op and the argument
(``field``: ``op.argument``), not a KeyError or a wrong answer deep inside the op. What each
argument's value means (ranges, names, shapes) the op itself checks, with its own error kind.
"""

from __future__ import annotations

from typing import Any, Callable

from .errors import BadRequest
from .protocol import OP_SPECS

# JSON's types as the decoder hands them over; bool is an int to Python, never to JSON.
_IS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: type(v) in (int, float),
    "integer": lambda v: type(v) is int,
    "boolean": lambda v: type(v) is bool,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def check_args(op: str, args: dict) -> None:
    """Raises BadRequest for the first argument of `args` that protocol/ops.json does not allow for `op`."""
    rules: dict[str, dict] = OP_SPECS[op]["args"]
    for name in args:
        if name not in rules:
            takes = ", ".join(rules) or "no arguments"
            raise BadRequest(f"{op}: unknown argument {name!r} (it takes {takes})", field=f"{op}.{name}")
    for name, rule in rules.items():
        if name not in args:
            if rule["required"]:
                raise BadRequest(f"{op}: argument {name!r} is missing", field=f"{op}.{name}")
        elif not any(_IS[t](args[name]) for t in rule["type"]):
            raise BadRequest(f"{op}: argument {name!r} must be {' or '.join(rule['type'])}, got {type(args[name]).__name__}", field=f"{op}.{name}")

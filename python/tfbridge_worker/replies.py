"""One request's frames in, one reply's frames out: the part of serving that knows no sockets."""

from __future__ import annotations

from typing import Any

from .codec import decode, encode
from .errors import ModelError, SpecError, traceback_frames
from .ops import Ops


def error_reply(request_id: Any, exc: BaseException) -> list:
    """The frames of a failed reply: the error's kind, type, message and traceback as data."""
    error = {
        "kind": getattr(exc, "kind", "python"),
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": traceback_frames(exc),
    }
    if isinstance(exc, SpecError):
        error["field"], error["reason"] = exc.field, exc.reason
    if isinstance(exc, ModelError):
        error["details"] = exc.details
    return encode({"id": request_id, "ok": False, "error": error})


def handle(ops: Ops, frames: list) -> list:
    """One request's frames in, the reply's frames out; never raises."""
    request_id = None
    try:
        header, arrays = decode(frames)
        request_id = header.get("id")
        result, out, names = ops(header.get("op"), header.get("args", {}), arrays)
        return encode({"id": request_id, "ok": True, "result": result}, out, names)
    except Exception as exc:  # every failure becomes a reply; the loop must keep serving
        return error_reply(request_id, exc)

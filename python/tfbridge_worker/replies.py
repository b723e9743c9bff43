"""One request in, one reply's frames out: the part of serving that knows no sockets."""

from __future__ import annotations

import os
from typing import Any

from .codec import decode_arrays, encode, encode_reply, message_bytes
from .errors import BadRequest, MessageTooLarge, ModelError, traceback_frames
from .ops import Ops
from .protocol import max_message_bytes


def error_reply(request_id: Any, exc: BaseException) -> list:
    """The frames of a failed reply: the error's kind, type, message and traceback as data."""
    error = {
        "kind": getattr(exc, "kind", "python"),
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": traceback_frames(exc),
    }
    if isinstance(exc, BadRequest) and exc.field is not None:
        error["field"] = exc.field
    if isinstance(exc, ModelError):
        error["details"] = exc.details
    return encode({"id": request_id, "ok": False, "error": error})


def handle(ops: Ops, header: dict, frames: list) -> list:
    """A request (its header, already read and checked, and all its frames) in, the reply's frames out.

    Never raises. A reply over the message cap becomes an error reply instead: the peer would drop
    the connection over it, and every other request on it with it.
    """
    request_id = header.get("id")
    try:
        arrays = decode_arrays(header["arrays"], frames[1:]) if header["arrays"] or len(frames) > 1 else []
        result, out, names = ops(header["op"], header["args"], arrays)
        reply = encode_reply(request_id, result, out, names)
        size = message_bytes(reply)
        cap = max_message_bytes()
        if size > cap:
            raise MessageTooLarge(f"the reply to {header['op']} would be {size} bytes, over the {cap}-byte message cap")
        return reply
    except Exception as exc:  # every failure becomes a reply; the loop must keep serving
        return error_reply(request_id, exc)


def ready_message(ops: Ops) -> list:
    """The worker's handshake, the first thing it sends on any link: what it is, and its spawn token.

    A pool (or Bridge) that spawned this worker recognizes it by the token; remote workers have none.
    """
    hello, _, _ = ops("hello", {}, [])
    return encode({"ctl": "ready", "info": hello, "token": os.environ.get("TFBRIDGE_WORKER_TOKEN")})


def heartbeat_message(busy: int) -> list:
    return encode({"ctl": "heartbeat", "busy": busy})


def leaving_message() -> list:
    """A stop signal came: the pool sends nothing new, and says `disconnect` once this worker's requests are answered."""
    return encode({"ctl": "leaving"})

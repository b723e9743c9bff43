"""One client's worker: a ROUTER socket, requests run in order on the executor, every one answered."""

from __future__ import annotations

import json
import sys
from typing import Any

import zmq

from .codec import decode, encode
from .errors import SpecError, traceback_frames
from .ops import Ops
from .protocol import MAX_MESSAGE_BYTES


def error_reply(request_id: Any, exc: BaseException) -> list:
    error = {
        "kind": getattr(exc, "kind", "python"),
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": traceback_frames(exc),
    }
    if isinstance(exc, SpecError):
        error["field"], error["reason"] = exc.field, exc.reason
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


def serve(endpoint: str, proxies=None) -> None:
    from .executor import Disconnect, Executor  # executor builds on handle() above

    context = zmq.Context.instance()
    socket = context.socket(zmq.ROUTER)
    socket.linger = 0
    socket.maxmsgsize = MAX_MESSAGE_BYTES
    socket.bind(endpoint)
    executor = Executor(Ops(proxies), context)
    poller = zmq.Poller()
    poller.register(socket, zmq.POLLIN)
    poller.register(executor.ready, zmq.POLLIN)
    print(json.dumps({"listening": endpoint}), file=sys.stderr, flush=True)
    while True:
        events = dict(poller.poll())
        if events.get(socket):
            identity, *frames = socket.recv_multipart(copy=False)
            try:
                reply = executor.receive(identity, frames)
            except Disconnect:
                return
            if reply is not None:
                socket.send_multipart([identity, *reply], copy=False)
        if events.get(executor.ready):
            identity, reply = executor.take_reply()
            socket.send_multipart([identity, *reply], copy=False)

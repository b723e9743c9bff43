"""pythonia's Python half, served inside the worker beside the data plane.

pythonia normally spawns a Python of its own and talks JSON lines over Node's IPC pipe. Here its
Python ``Bridge`` runs on a thread of the worker and talks over a ZeroMQ PAIR socket in the worker's
private folder, so objects made through proxies and arrays sent over the data plane live in one
interpreter and one object table (``Bridge.m``, keyed by ffid), and each channel can hand the other
its objects by ffid. The JavaScript half is src/proxies/.
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
from typing import Any

import numpy as np
import zmq

from .codec import normalize
from .errors import BadRequest, traceback_frames


class ProxyChannel:
    """pythonia's Python bridge on a thread, started on first use."""

    # Data-plane objects get ffids from a range of their own: pythonia's thread counts up from 1 without
    # a lock, so sharing its counter across threads could hand out one ffid twice.
    FIRST_DATA_PLANE_FFID = 1 << 40

    def __init__(self, pythonia_dir: str, endpoint: str):
        self.pythonia_dir = pythonia_dir
        self.endpoint = endpoint
        self.bridge = None
        self._lock = threading.Lock()
        self._socket = None
        self._next_ffid = self.FIRST_DATA_PLANE_FFID

    def start(self) -> None:
        if self.bridge is not None:
            return
        sys.path.insert(0, self.pythonia_dir)
        from Bridge import Bridge  # pythonia's own module, from the installed npm package

        channel = self

        class StructuredErrors(Bridge):
            # pythonia sends a formatted traceback only; ours also carries type, message and frames.
            def onMessage(self, r, action, ffid, key, args):
                try:
                    return getattr(self, action)(r, ffid, key, args)
                except Exception as exc:
                    error = {"type": type(exc).__name__, "message": str(exc), "traceback": traceback_frames(exc)}
                    channel.queue({"r": r, "key": "error", "val": "", "sig": traceback.format_exc(), "error": error})

        self._socket = zmq.Context.instance().socket(zmq.PAIR)
        self._socket.linger = 0
        self._socket.bind(self.endpoint)
        self.bridge = StructuredErrors(self)
        threading.Thread(target=self._serve, name="pythonia", daemon=True).start()

    # The interface pythonia's Bridge expects of its transport: queue() sends, readline() receives.
    def queue(self, what: Any) -> None:
        try:
            data = what if isinstance(what, str) else json.dumps(what)
            with self._lock:
                self._socket.send_string(data)
        except Exception:
            # As pythonia's own transport does: at interpreter exit, its Proxy finalizers may still
            # try to tell JS to free objects; there is nobody left to tell.
            if not sys.is_finalizing():
                raise

    def readline(self) -> str:
        return self._socket.recv_string()

    def _serve(self) -> None:
        while True:
            data = self.readline()
            if not data.startswith("{"):
                continue
            j = json.loads(data)
            self.bridge.onMessage(j["r"], j["action"], j["ffid"], j["key"], j["val"])

    def _require(self):
        if self.bridge is None:
            raise BadRequest("the proxy channel is not started (py.start first)")
        return self.bridge

    def put(self, arrays: list[np.ndarray]) -> list[int]:
        """Data-plane arrays into the proxies' object table; returns their ffids."""
        bridge = self._require()
        ffids = []
        for array in arrays:
            bridge.m[self._next_ffid] = np.array(array)  # kept past this request: its own copy, not a view over the wire's buffers
            ffids.append(self._next_ffid)
            self._next_ffid += 1
        return ffids

    def get(self, ffid: Any) -> np.ndarray:
        """A proxied object, through ``np.asarray``, as an array for the data plane."""
        bridge = self._require()
        if type(ffid) is not int or ffid not in bridge.m:
            raise BadRequest(f"no proxied object with ffid {ffid!r}")
        return normalize(np.asarray(bridge.m[ffid]))

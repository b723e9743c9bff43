"""Pool mode: a worker that connects to a pool's ROUTER and keeps itself known by heartbeats.

This is ZeroMQ's Paranoid Pirate pattern. The main thread owns the socket: it reads requests and
control messages, sends replies and heartbeats. Requests run one at a time on an executor thread, so
the heartbeat keeps going during a long computation. It stops when the running request is past its
deadline (plus a grace period): a worker stuck in Python then falls silent, and the pool replaces it.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass, field

import zmq
from zmq.utils.monitor import recv_monitor_message

from .codec import decode_header, encode
from .curve import CurveKeys
from .errors import BadRequest, Cancelled
from .ops import Ops
from .protocol import MAX_MESSAGE_BYTES, WIRE
from .server import error_reply, handle

CONTROL = WIRE["control"]
HEARTBEAT_S = CONTROL["heartbeatMs"] / 1000
LIVENESS = CONTROL["liveness"]
#: How long past its deadline a request may run before the worker stops vouching for itself.
GRACE_S = 2 * HEARTBEAT_S


@dataclass
class Job:
    request_id: object
    deadline: float | None
    frames: list = field(repr=False)


class ConnectedWorker:
    def __init__(self, endpoint: str, ops: Ops, curve: CurveKeys | None = None):
        self.endpoint = endpoint
        self.ops = ops
        self.curve = curve
        self.context = zmq.Context.instance()
        self.jobs: queue.Queue[Job] = queue.Queue()
        self.cancelled: set = set()
        self.running: Job | None = None
        self.done = self.context.socket(zmq.PAIR)  # executor -> main thread: a reply is ready
        self.done.bind("inproc://tfbridge-done")
        self.replies: queue.Queue[list] = queue.Queue()
        threading.Thread(target=self._execute, name="executor", daemon=True).start()

    def _socket(self) -> zmq.Socket:
        socket = self.context.socket(zmq.DEALER)
        socket.linger = 0
        socket.maxmsgsize = MAX_MESSAGE_BYTES
        if self.curve:
            socket.curve_publickey, socket.curve_secretkey = self.curve.public, self.curve.secret
            socket.curve_serverkey = self.curve.server
        socket.connect(self.endpoint)
        hello, _, _ = self.ops("hello", {}, [])
        # A pool that spawned this worker recognizes it by this token; remote workers have none.
        token = os.environ.get("TFBRIDGE_WORKER_TOKEN")
        socket.send_multipart(encode({"ctl": "ready", "info": hello, "token": token}))
        return socket

    def _execute(self) -> None:
        notify = self.context.socket(zmq.PAIR)
        notify.connect("inproc://tfbridge-done")
        while True:
            job = self.jobs.get()
            if job.request_id in self.cancelled or (job.deadline is not None and time.monotonic() > job.deadline):
                self.cancelled.discard(job.request_id)
                reply = error_reply(job.request_id, Cancelled("cancelled, or past its deadline, before it ran"))
            else:
                self.running = job
                reply = handle(self.ops, job.frames)
                self.running = None
            self.replies.put(reply)
            notify.send(b"")

    def _vouch(self) -> bool:
        """False once the running request has overstayed its deadline: the worker is stuck."""
        job = self.running
        return job is None or job.deadline is None or time.monotonic() < job.deadline + GRACE_S

    def _receive(self, socket: zmq.Socket) -> bool:
        """Handles one message from the pool; False when told to disconnect."""
        frames = socket.recv_multipart(copy=False)
        try:
            header = decode_header(frames[0])
        except BadRequest as exc:
            socket.send_multipart(error_reply(None, exc), copy=False)
            return True
        ctl = header.get("ctl")
        if ctl == "disconnect":
            return False
        if ctl == "cancel":
            self.cancelled.add(header.get("id"))
        elif ctl is None:
            remaining = header.get("deadlineMs")
            deadline = time.monotonic() + remaining / 1000 if type(remaining) in (int, float) else None
            self.jobs.put(Job(header.get("id"), deadline, frames))
        return True  # a heartbeat from the pool needs no answer beyond our own heartbeats

    def _watch_handshakes(self, socket: zmq.Socket, poller: zmq.Poller) -> zmq.Socket | None:
        """With CURVE, a refused handshake is otherwise silent: report it on stderr for operators."""
        if not self.curve:
            return None
        monitor = socket.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        poller.register(monitor, zmq.POLLIN)
        return monitor

    def run(self) -> None:
        socket = self._socket()
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        poller.register(self.done, zmq.POLLIN)
        monitor = self._watch_handshakes(socket, poller)
        next_heartbeat = time.monotonic() + HEARTBEAT_S
        pool_seen = time.monotonic()
        while True:
            events = dict(poller.poll(HEARTBEAT_S * 1000))
            if events.get(socket):
                pool_seen = time.monotonic()
                if not self._receive(socket):
                    return
            if monitor is not None and events.get(monitor):
                event = recv_monitor_message(monitor)
                refusal = {"refused": self.endpoint, "event": event["event"], "status": event["value"]}
                print(json.dumps(refusal), file=sys.stderr, flush=True)
            if events.get(self.done):
                self.done.recv()
                socket.send_multipart(self.replies.get(), copy=False)
            now = time.monotonic()
            if now >= next_heartbeat:
                next_heartbeat = now + HEARTBEAT_S
                if self._vouch():
                    socket.send_multipart(encode({"ctl": "heartbeat", "busy": self.jobs.qsize() + (self.running is not None)}))
            if now - pool_seen > LIVENESS * HEARTBEAT_S * 2 and self._vouch():
                # (A stuck worker does not come back as a fresh one while its request still runs.)
                # The pool went quiet: reconnect (it may have restarted), as the Paranoid Pirate does.
                print(json.dumps({"reconnecting": self.endpoint}), file=sys.stderr, flush=True)
                poller.unregister(socket)
                if monitor is not None:
                    poller.unregister(monitor)
                    socket.disable_monitor()
                    monitor.close()
                socket.close()
                socket = self._socket()
                poller.register(socket, zmq.POLLIN)
                monitor = self._watch_handshakes(socket, poller)
                pool_seen = time.monotonic()

"""Requests run one at a time on a thread of their own, so a worker's socket thread stays free.

The socket thread keeps reading while a request runs: it takes cancellations, sees deadlines pass,
and (in pool mode) heartbeats. Both serving modes use this: server.serve (bind, one client) and
connected.ConnectedWorker (connect, a pool).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import zmq

from .codec import decode_header, encode
from .errors import BadRequest, Cancelled
from .ops import Ops
from .replies import error_reply, handle


@dataclass
class Job:
    route: Any  # where the reply goes: a ROUTER identity, or None on a DEALER
    request_id: Any
    deadline: float | None  # time.monotonic() seconds
    frames: list = field(repr=False)
    progress: bool = False  # the client asked to hear which phase the request is in


class Disconnect(Exception):
    """The peer told this worker to stop serving."""


class Executor:
    def __init__(self, ops: Ops, context: zmq.Context):
        self.ops = ops
        self.jobs: queue.Queue[Job] = queue.Queue()
        self.cancelled: set = set()
        self.running: Job | None = None
        self.replies: queue.Queue[tuple[Any, list]] = queue.Queue()
        endpoint = f"inproc://tfbridge-executor-{id(self)}"
        #: Readable when a reply is ready: register it with the socket thread's poller.
        self.ready = context.socket(zmq.PAIR)
        self.ready.bind(endpoint)
        notify = context.socket(zmq.PAIR)
        notify.connect(endpoint)
        threading.Thread(target=self._run, args=(notify,), name="executor", daemon=True).start()

    def receive(self, route: Any, frames: list) -> list | None:
        """Takes one incoming message: queues a request, applies a control message, or returns an
        error reply at once for a header it cannot read. Raises Disconnect when told to stop."""
        try:
            header = decode_header(frames[0])
        except BadRequest as exc:
            return error_reply(None, exc)
        ctl = header.get("ctl")
        if ctl == "disconnect":
            raise Disconnect()
        if ctl == "cancel":
            if _is_id(header.get("id")):
                self.cancelled.add(header.get("id"))
        elif ctl is None:
            remaining = header.get("deadlineMs")
            deadline = time.monotonic() + remaining / 1000 if type(remaining) in (int, float) else None
            self.jobs.put(Job(route, header.get("id"), deadline, frames, header.get("progress") is True))
        return None  # heartbeats need no answer

    def take_reply(self) -> tuple[Any, list]:
        """(route, frames) of a finished request's reply, or of a progress report; call when `ready` is readable."""
        self.ready.recv()
        return self.replies.get()

    def overdue(self, grace_s: float) -> bool:
        """True while the running request is more than `grace_s` past its deadline."""
        job = self.running
        return job is not None and job.deadline is not None and time.monotonic() > job.deadline + grace_s

    @property
    def busy(self) -> int:
        return self.jobs.qsize() + (self.running is not None)

    def _run(self, notify: zmq.Socket) -> None:
        while True:
            job = self.jobs.get()
            cancelled = _is_id(job.request_id) and job.request_id in self.cancelled
            if cancelled:
                self.cancelled.discard(job.request_id)
            if cancelled or (job.deadline is not None and time.monotonic() > job.deadline):
                reply = error_reply(job.request_id, Cancelled("cancelled, or past its deadline, before it ran"))
            else:
                self.running = job
                if job.progress:
                    self.ops.report = lambda phase: self._send(notify, job.route, encode({"id": job.request_id, "ctl": "progress", "phase": phase}))
                reply = handle(self.ops, job.frames)  # never raises: failures become error replies
                self.ops.report = _no_report
                self.running = None
            self._send(notify, job.route, reply)

    def _send(self, notify: zmq.Socket, route: Any, frames: list) -> None:
        """Hands a message (a reply, or a progress report before it) to the socket thread."""
        self.replies.put((route, frames))
        notify.send(b"")


def _no_report(phase: str) -> None:
    pass


def _is_id(value: Any) -> bool:
    """Request ids the wire allows (the client sends integers); anything else is never cancellable."""
    return type(value) in (int, str)

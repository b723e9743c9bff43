"""Requests run one at a time on a thread of their own, so a worker's socket thread stays free.

The socket thread keeps reading while a request runs: it takes cancellations, sees deadlines pass,
and heartbeats. Both serving modes use this: connected.ConnectedWorker (`--connect`: a DEALER
connected to a pool's, or a Bridge's, ROUTER) and link.serve_link (`--link-fd`: the local link). Each
hands the executor its own way to deliver a reply: a ZeroMQ socket may only be used by its own thread,
so the connected worker goes through a Mailbox. The local link runs the executor inline instead
(`threaded=False`, `run_queued`): one thread reads and runs, with no hand-off between threads on each
request, and reads whatever arrived before starting the next request, so cancels still reach queued ones.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import zmq

from .codec import encode, message_bytes, read_request
from .errors import BadRequest, Cancelled, MessageTooLarge
from .ops import Ops
from .protocol import HEARTBEAT_S, max_message_bytes
from .replies import error_reply, handle


#: How long past its deadline a request may run before the worker stops vouching for itself: it then
#: falls silent, and the pool (or Bridge) that counts on its heartbeats gives up on it.
GRACE_S = 2 * HEARTBEAT_S
#: A request whose op last ran in less than this is quick: its reply may wait for the next ones' (link.py).
QUICK_S = 200e-6


@dataclass
class Job:
    request_id: int | None
    deadline: float | None  # time.monotonic() seconds
    header: dict = field(repr=False)  # read and checked once, on the socket thread
    frames: list = field(repr=False)
    cancelled: bool = False
    progress: bool = False  # the client asked to hear which phase the request is in


class Disconnect(Exception):
    """The peer told this worker to stop serving."""


class Rejoin(Exception):
    """The pool no longer counts this worker as a member: announce it again."""


class Mailbox:
    """Replies from the executor thread to a ZeroMQ socket's thread, which owns the socket."""

    def __init__(self, context: zmq.Context):
        self.replies: queue.Queue[list] = queue.Queue()
        endpoint = f"inproc://tfbridge-executor-{id(self)}"
        #: Readable when a reply is ready: register it with the socket thread's poller.
        self.ready = context.socket(zmq.PAIR)
        self.ready.bind(endpoint)
        self._notify = context.socket(zmq.PAIR)  # used by the executor thread only
        self._notify.connect(endpoint)

    def deliver(self, frames: list) -> None:
        self.replies.put(frames)
        self._notify.send(b"")

    def take(self) -> list:
        """The frames of a finished request's reply, or of a progress report; call when `ready` is readable."""
        self.ready.recv()
        return self.replies.get()


class _InlineJobs:
    """The inline mode's queue: one thread puts and takes, so no locks (queue.Queue's cost a request ~2 µs)."""

    def __init__(self) -> None:
        self._jobs: deque[Job] = deque()

    def put(self, job: Job) -> None:
        self._jobs.append(job)

    def get_nowait(self) -> Job:
        if not self._jobs:
            raise queue.Empty
        return self._jobs.popleft()

    def qsize(self) -> int:
        return len(self._jobs)


class Executor:
    def __init__(self, ops: Ops, deliver: Callable[[list], None], threaded: bool = True):
        self.ops = ops
        self.jobs: queue.Queue[Job] | _InlineJobs = queue.Queue() if threaded else _InlineJobs()
        #: Requests not yet started, by id: what a cancel can still reach. Nothing else is
        #: remembered about ids, so cancels for unknown or finished requests leave no trace.
        self.queued: dict[int, Job] = {}
        self.running: Job | None = None
        #: Requests taken and not yet answered (queued, running, or between the two), under its lock:
        #: the socket thread counts them in, the executor thread counts them out.
        self._unanswered = 0
        self._unanswered_lock = threading.Lock()
        #: Called on the executor thread with the frames of each reply and progress report.
        self.deliver = deliver
        #: How long each op's last run took, in seconds (what `quick` judges by).
        self.last_run_s: dict[str, float] = {}
        if threaded:
            threading.Thread(target=self._run, name="executor", daemon=True).start()

    def receive(self, frames: list) -> list | None:
        """Takes one incoming message: queues a request, applies a control message, or returns an
        error reply at once for one it refuses. Raises Disconnect or Rejoin when told to."""
        try:
            header = read_request(frames[0])
        except BadRequest as exc:
            return error_reply(exc.request_id, exc)
        request_id = header.get("id")
        size, cap = message_bytes(frames), max_message_bytes()
        if size > cap:
            return error_reply(request_id, MessageTooLarge(f"a message of {size} bytes is over the {cap}-byte cap"))
        ctl = header.get("ctl")
        if ctl == "disconnect":
            raise Disconnect()
        if ctl == "rejoin":
            raise Rejoin()
        if ctl == "cancel":
            job = self.queued.get(request_id)
            if job is not None:
                job.cancelled = True
        elif ctl is None:
            remaining = header.get("deadlineMs")
            deadline = time.monotonic() + remaining / 1000 if remaining is not None else None
            job = Job(request_id, deadline, header, frames, progress=header.get("progress") is True)
            if request_id is not None:
                self.queued[request_id] = job
            with self._unanswered_lock:
                self._unanswered += 1
            self.jobs.put(job)
        return None  # heartbeats and cancels need no answer

    def overdue(self, grace_s: float) -> bool:
        """True while the running request is more than `grace_s` past its deadline."""
        job = self.running
        return job is not None and job.deadline is not None and time.monotonic() > job.deadline + grace_s

    @property
    def busy(self) -> int:
        """Requests taken and not yet answered: a worker that is not busy has handed over every reply."""
        return self._unanswered

    def _run(self) -> None:
        while True:
            self._execute(self.jobs.get())

    def quick(self, job: Job) -> bool:
        """True when `job`'s op last ran in under QUICK_S and it asked for no progress reports."""
        return not job.progress and self.last_run_s.get(job.header.get("op"), QUICK_S) < QUICK_S

    def run_queued(self, take_arrivals: Callable[[], None], starting: Callable[[Job], None] = lambda job: None) -> None:
        """Inline mode (no thread of its own): runs the queued requests on the calling thread, one by
        one, calling `take_arrivals` before each so that cancels already received still apply, and
        `starting` with the job about to run. Returns once none is queued: what arrives after that,
        the caller's next read takes."""
        while self.jobs.qsize():
            take_arrivals()
            job = self.jobs.get_nowait()
            starting(job)
            self._execute(job)

    def _execute(self, job: Job) -> None:
        if self.queued.get(job.request_id) is job:
            del self.queued[job.request_id]
        try:
            if job.cancelled or (job.deadline is not None and time.monotonic() > job.deadline):
                reply = error_reply(job.request_id, Cancelled("cancelled, or past its deadline, before it ran"))
            else:
                self.running = job
                if job.progress:
                    self.ops.report = lambda phase: self.deliver(encode({"id": job.request_id, "ctl": "progress", "phase": phase}))
                started = time.perf_counter()
                reply = handle(self.ops, job.header, job.frames)  # failures become error replies
                self.last_run_s[job.header["op"]] = time.perf_counter() - started
        except Exception as exc:  # noqa: BLE001 - the loop must outlive any request: one reply each
            reply = error_reply(job.request_id, exc)
        finally:
            self.ops.report = _no_report
            self.running = None
        try:
            self.deliver(reply)
        finally:
            with self._unanswered_lock:
                self._unanswered -= 1


def _no_report(phase: str) -> None:
    pass

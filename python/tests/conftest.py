import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import zmq

PYTHON_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PYTHON_DIR))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfbridge_worker.codec import decode_header, encode  # noqa: E402 (needs the path above)
from tfbridge_worker.protocol import HEARTBEAT_S  # noqa: E402

_pumps = 0


class WorkerProcess:
    """A real worker process connected to this test's ROUTER on an IPC socket, as a pool runs one.

    The test binds the ROUTER, starts ``python -m tfbridge_worker --connect <endpoint> --exit-with-stdin``
    (or ``command`` in place of ``python -m tfbridge_worker``)
    and waits for its ``ready`` (``self.ready``), remembering its routing identity. A thread owns the
    ROUTER and keeps the worker a member the way a pool does: it sends a heartbeat every 500 ms (a
    worker that hears nothing from its pool for a few seconds would make a new socket) and swallows the
    worker's heartbeats. ``send(frames)`` and ``receive()`` talk to that thread over an inproc pair:
    ``send`` goes to the worker with its identity prepended, ``receive`` returns the worker's next message
    without the identity, heartbeats skipped (replies and any other control message are not). Its
    timeout is ``self.socket.rcvtimeo`` (120 s; ``zmq.Again`` when it passes).
    """

    def __init__(self, env: dict | None = None, command: list[str] | None = None) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="tfbridge-pytest-")
        self.endpoint = f"ipc://{self.dir.name}/pool.sock"
        self.context = zmq.Context()
        self.router = self.context.socket(zmq.ROUTER)
        self.router.linger = 0
        self.router.rcvtimeo = 120_000
        self.router.bind(self.endpoint)
        self.proc = subprocess.Popen(
            [*(command or [sys.executable, "-m", "tfbridge_worker"]), "--connect", self.endpoint, "--exit-with-stdin"],
            cwd=PYTHON_DIR,
            stdin=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        try:
            self.identity, head, *_ = self.router.recv_multipart()
            self.ready = decode_header(head)
            assert self.ready.get("ctl") == "ready", self.ready
        except BaseException:
            self.proc.kill()
            self._end_process()
            self.router.close()
            self.context.term()
            self.dir.cleanup()
            raise
        global _pumps
        _pumps += 1
        inner = f"inproc://tfbridge-pytest-pump-{_pumps}"
        #: The test's end: what receive() reads; set its rcvtimeo for a shorter wait.
        self.socket = self.context.socket(zmq.PAIR)
        self.socket.linger = 0
        self.socket.rcvtimeo = 120_000
        self.socket.bind(inner)
        pump_end = self.context.socket(zmq.PAIR)
        pump_end.linger = 0
        pump_end.connect(inner)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, args=(pump_end,), name="pool-pump", daemon=True)
        self._thread.start()

    def _pump(self, inner: zmq.Socket) -> None:
        """The ROUTER's thread: forwards both ways and heartbeats the worker, until close()."""
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        poller.register(inner, zmq.POLLIN)
        heartbeat = encode({"id": None, "ctl": "heartbeat"})
        next_beat = time.monotonic()
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_beat:
                    self.router.send_multipart([self.identity, *heartbeat])
                    next_beat = now + HEARTBEAT_S
                events = dict(poller.poll(max(1, int((next_beat - now) * 1000))))
                if events.get(self.router):
                    identity, *frames = self.router.recv_multipart(copy=False)
                    ctl = decode_header(frames[0].bytes).get("ctl")
                    if ctl == "heartbeat":
                        continue
                    if ctl == "ready":  # a worker that announces itself again (told to rejoin)
                        self.identity = identity.bytes
                    inner.send_multipart(frames, copy=False)
                if events.get(inner):
                    self.router.send_multipart([self.identity, *inner.recv_multipart(copy=False)], copy=False)
        finally:
            inner.close()

    def send(self, frames: list) -> None:
        self.socket.send_multipart(frames, copy=False)

    def receive(self) -> list[bytes]:
        return self.socket.recv_multipart()

    def _end_process(self) -> int:
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
        finally:
            self.proc.stdin.close()

    def close(self) -> int:
        """Tells the worker to disconnect, waits for it to exit (killing it after 30 s), and returns its exit code."""
        self.send(encode({"id": None, "ctl": "disconnect"}))
        code = self._end_process()
        self._stop.set()
        self._thread.join(timeout=10)
        self.socket.close()
        self.router.close()
        self.context.term()
        self.dir.cleanup()
        return code


@pytest.fixture(scope="session")
def worker():
    w = WorkerProcess()
    yield w
    w.close()

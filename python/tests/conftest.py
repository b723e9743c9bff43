import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import zmq

PYTHON_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PYTHON_DIR))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class WorkerProcess:
    """A real worker process on an IPC socket, and a DEALER socket talking to it."""

    def __init__(self) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="tfbridge-pytest-")
        self.endpoint = f"ipc://{self.dir.name}/worker.sock"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tfbridge_worker", "--endpoint", self.endpoint, "--exit-with-stdin"],
            cwd=PYTHON_DIR,
            stdin=subprocess.PIPE,
        )
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.linger = 0
        self.socket.rcvtimeo = 120_000
        self.socket.connect(self.endpoint)

    def send(self, frames: list) -> None:
        self.socket.send_multipart(frames, copy=False)

    def receive(self) -> list[bytes]:
        return self.socket.recv_multipart()

    def close(self) -> None:
        self.socket.close()
        self.context.term()
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.dir.cleanup()


@pytest.fixture(scope="session")
def worker():
    w = WorkerProcess()
    yield w
    w.close()

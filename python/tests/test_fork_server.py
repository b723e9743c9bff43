"""Workers forked from the fork server (fork_server.py) through their clients (fork_client.py): each
client stands for its worker, with the worker's environment, exit and signals, and neither outlives
the other or the server."""

import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

from conftest import PYTHON_DIR, WorkerProcess
from test_worker import call


class Server:
    def __init__(self) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="tfbridge-pytest-fork-")
        self.path = f"{self.dir.name}/fork.sock"
        self.proc = subprocess.Popen([sys.executable, "-m", "tfbridge_worker.fork_server", "--socket", self.path],
                                     cwd=PYTHON_DIR, stdin=subprocess.PIPE)

    def client(self) -> list[str]:
        """The command that starts a worker through this server, but for the worker's own arguments."""
        return [sys.executable, "-S", "-m", "tfbridge_worker.fork_client", "--server", self.path,
                "--server-pid", str(self.proc.pid), "--"]

    def close(self) -> None:
        self.proc.stdin.close()  # as when Node exits
        self.proc.wait(timeout=30)
        self.dir.cleanup()


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.close()


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def gone(pid: int, within_s: float = 10) -> bool:
    until = time.monotonic() + within_s
    while time.monotonic() < until:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_a_forked_worker_serves_under_its_own_environment(server):
    """The cap comes from the client's environment, not from the server's at its import (it was read at
    import once: a forked worker kept the server's cap)."""
    w = WorkerProcess({"TFBRIDGE_MAX_MESSAGE_BYTES": "4096"}, command=server.client())
    try:
        pid = w.ready["info"]["pid"]
        assert pid != w.proc.pid and parent_of(pid) == server.proc.pid
        header, _ = call(w, "echo", arrays=[np.zeros(750, np.float32), np.zeros(750, np.float32)])
        assert header["ok"] is False and header["error"]["kind"] == "too_large", header
        assert call(w, "echo", arrays=[np.zeros(16, np.float32)], request_id=2)[0]["ok"]
    finally:
        assert w.close() == 0  # the worker's clean exit is its client's


def test_the_workers_exit_code_and_stderr_are_its_clients(server):
    done = subprocess.run([*server.client(), "--connect", "tcp://10.1.2.3:5555"], cwd=PYTHON_DIR,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "is not loopback: CurveZMQ keys are required" in done.stderr


def test_a_signal_to_the_client_reaches_the_worker_whose_end_it_mirrors(server):
    w = WorkerProcess(command=server.client())
    pid = w.ready["info"]["pid"]
    try:
        w.proc.send_signal(signal.SIGTERM)
        assert w.proc.wait(timeout=30) == -signal.SIGTERM
        assert gone(pid)
    finally:
        w.close()


def test_a_client_killed_takes_its_worker_with_it(server):
    w = WorkerProcess(command=server.client())
    pid = w.ready["info"]["pid"]
    try:
        w.proc.kill()
        assert gone(pid), "the worker outlived its client"
        assert os.path.exists(f"/proc/{server.proc.pid}")  # the server serves on
    finally:
        w.close()


def test_workers_die_with_their_server_and_their_clients_say_so():
    own = Server()
    w = WorkerProcess(command=own.client())
    pid = w.ready["info"]["pid"]
    try:
        own.proc.kill()
        assert gone(pid), "a worker outlived its fork server"
        assert w.proc.wait(timeout=30) != 0
    finally:
        w.close()
        own.proc.wait()
        own.dir.cleanup()


def test_a_client_whose_server_is_gone_fails_at_once_with_why():
    ended = subprocess.Popen(["true"])
    ended.wait()  # reaped: its pid names nobody
    with tempfile.TemporaryDirectory() as d:
        done = subprocess.run([sys.executable, "-S", "-m", "tfbridge_worker.fork_client", "--server", f"{d}/fork.sock",
                               "--server-pid", str(ended.pid), "--", "--connect", "ipc:///x"],
                              cwd=PYTHON_DIR, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "fork server (pid" in done.stderr and "exited before it could start this worker" in done.stderr

"""Workers forked from the fork server (fork_server.py) through their clients (fork_client.py): each
client stands for its worker, with the worker's environment, exit and signals, and neither outlives
the other or the server."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import PYTHON_DIR, WorkerProcess
from tfbridge_worker.codec import decode_header, encode
from test_worker import call


class Server:
    def __init__(self) -> None:
        self.name = f"tfbridge-pytest-fork-{secrets.token_hex(8)}"
        self.proc = subprocess.Popen([sys.executable, "-m", "tfbridge_worker.fork_server", "--socket", self.name],
                                     cwd=PYTHON_DIR, stdin=subprocess.PIPE)

    def client(self, pid: int | None = None) -> list[str]:
        """The command that starts a worker through this server, but for the worker's own arguments."""
        return [sys.executable, "-S", "-m", "tfbridge_worker.fork_client", "--server", self.name,
                "--server-pid", str(self.proc.pid if pid is None else pid), "--"]

    def close(self) -> None:
        self.proc.stdin.close()  # as when Node exits
        self.proc.wait(timeout=30)


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


def _leaves_when_told(w: WorkerProcess) -> None:
    """The worker got the stop signal: it says it is leaving, and goes on the pool's disconnect."""
    assert decode_header(w.receive()[0])["ctl"] == "leaving"
    w.send(encode({"id": None, "ctl": "disconnect"}))


def test_a_signal_to_the_client_reaches_the_worker_whose_end_it_mirrors(server):
    w = WorkerProcess(command=server.client())
    pid = w.ready["info"]["pid"]
    try:
        w.proc.send_signal(signal.SIGTERM)
        _leaves_when_told(w)
        assert w.proc.wait(timeout=30) == -signal.SIGTERM
        assert gone(pid)
    finally:
        w.close()


def test_ctrl_c_ends_a_forked_worker_by_sigint_as_it_does_a_fresh_one(server):
    """The client forwards SIGINT; the worker leaves its pool and ends by SIGINT, as a fresh one does
    (a KeyboardInterrupt used to become exit status 1), and the client mirrors that."""
    w = WorkerProcess(command=server.client())
    try:
        w.proc.send_signal(signal.SIGINT)
        _leaves_when_told(w)
        assert w.proc.wait(timeout=30) == -signal.SIGINT
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


def test_a_client_whose_server_is_gone_fails_at_once_with_why():
    ended = subprocess.Popen(["true"])
    ended.wait()  # reaped: its pid names nobody
    done = subprocess.run([sys.executable, "-S", "-m", "tfbridge_worker.fork_client", "--server", "tfbridge-pytest-none",
                           "--server-pid", str(ended.pid), "--", "--connect", "ipc:///x"],
                          cwd=PYTHON_DIR, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "fork server (pid" in done.stderr and "exited before it could start this worker" in done.stderr


def test_a_client_hands_nothing_to_a_socket_its_server_does_not_hold(server):
    """An abstract socket name is anyone's to take first: the client checks the pid it was given, and
    sends no environment (CURVE keys) and no descriptors elsewhere."""
    done = subprocess.run([*server.client(pid=os.getpid()), "--connect", "ipc:///x"], cwd=PYTHON_DIR,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert f"held by pid {server.proc.pid}" in done.stderr and f"not by the worker fork server (pid {os.getpid()})" in done.stderr


def test_a_bad_request_is_refused_and_the_server_serves_on(server):
    """Malformed requests (not JSON, nested too deep, descriptors without places) get an error each."""
    for payload, fds in [(b"{not json", [0, 2]), (b"[" * 100_000, [0, 2]),
                         (b'{"argv": [], "env": {}, "cwd": "/", "fds": [0]}', [0, 2])]:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.connect("\0" + server.name)
        socket.send_fds(sock, [payload], fds)
        assert json.loads(sock.recv(4096))["error"].startswith("bad request")
        sock.close()
    w = WorkerProcess(command=server.client())
    assert w.close() == 0

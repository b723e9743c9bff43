"""``python -S -m tfbridge_worker.fork_client --server NAME --server-pid PID -- WORKER_ARGS...``

A worker started through the fork server (fork_server.py): this small process stands where the worker
would, for Node. It hands the server its standard input, standard error and the local link's socket
(the worker's ``--link-fd``, when it has one), with its environment, folder and the worker's
arguments; forwards the signals it gets to the worker; and exits as the worker did, by the same code
or signal. It imports nothing but the standard library (and runs under ``-S``), so it starts in
milliseconds. It talks only to the server Node started (the pid it was given, and this user's): the
environment it sends may hold CurveZMQ keys, and an abstract socket name is anyone's to take first.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time

from .peer_credentials import peer_credentials

#: Signals passed on to the worker; SIGKILL cannot be, and the server kills the worker when this process goes.
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
#: Between tries to connect while the server is still importing TensorFlow.
_RETRY_S = 0.02


def _fail(message: str) -> None:
    print(f"tfbridge: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _connect(name: str, server_pid: int) -> socket.socket:
    """Connected to the server, once it has imported TensorFlow and listens; fails once it has died."""
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            sock.connect("\0" + name)
        except ConnectionRefusedError:
            sock.close()
        else:
            pid, uid = peer_credentials(sock)
            if pid != server_pid or uid != os.getuid():
                _fail(f"the socket {name} is held by pid {pid} (uid {uid}), not by the worker fork server (pid {server_pid})")
            return sock
        if not _alive(server_pid):
            _fail(f"the worker fork server (pid {server_pid}) exited before it could start this worker")
        time.sleep(_RETRY_S)


def _receive(sock: socket.socket) -> dict:
    data = sock.recv(4096)
    if not data:
        _fail("the worker fork server went away")
    return json.loads(data)


def main() -> None:
    args = sys.argv[1:]
    if len(args) < 5 or args[0] != "--server" or args[2] != "--server-pid" or args[4] != "--" or not args[3].isdigit():
        _fail("usage: python -S -m tfbridge_worker.fork_client --server NAME --server-pid PID -- WORKER_ARGS...")
    name, server_pid, worker_args = args[1], int(args[3]), args[5:]
    if server_pid <= 0:  # os.kill(0, …) would ask about this process group, which is always there
        _fail("the worker fork server did not start (no pid)")
    link = [int(worker_args[worker_args.index("--link-fd") + 1])] if "--link-fd" in worker_args else []
    fds = [0, 2, *link]
    sock = _connect(name, server_pid)
    request = json.dumps({"argv": worker_args, "env": dict(os.environ), "cwd": os.getcwd(), "fds": fds}).encode()
    socket.send_fds(sock, [request], fds)
    for fd in link:
        os.close(fd)  # the worker's now: the link closes for Node when the worker's copy does
    reply = _receive(sock)
    if "error" in reply:
        _fail(f"the worker fork server could not start this worker: {reply['error']}")
    pid = reply["pid"]

    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass  # ended already; its end is on its way

    for signum in FORWARDED:
        signal.signal(signum, forward)
    end = _receive(sock)
    if "signal" in end:
        signum = end["signal"]
        if signum != signal.SIGKILL:
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        sys.exit(128 + signum)  # a signal that does not end a process (SIGCHLD, …) cannot be mirrored
    sys.exit(end["exit"])


if __name__ == "__main__":
    main()

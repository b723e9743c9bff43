"""``python -m tfbridge_worker.fork_server --socket NAME``: imports TensorFlow once, then forks workers.

Importing TensorFlow and Keras is most of a worker's start (seconds of CPU); a child forked after the
import starts serving in a fraction of a second and shares the imported pages. Node starts one server
per interpreter and environment (src/worker/fork-server.ts), and each worker as a small client
(fork_client.py) that hands the server its standard input, its standard error and, on the local link,
its end of the socket pair. The server forks; the child takes those descriptors, the client's
environment, folder and arguments, and runs the worker's ``main`` as ``python -m tfbridge_worker`` would.

The client and the worker live and die together: the client forwards the signals it gets and exits as
the worker did; when the client dies, the server kills the worker; when the server dies, every worker
it forked dies too (PR_SET_PDEATHSIG), and the server exits when Node closes its standard input.

The server stays single-threaded (no threads of its own, and TensorFlow starts none at import), which
is what makes forking it safe; it never runs TensorFlow itself.

The socket is in Linux's abstract namespace (no file to outlive the server, to be cleaned away under
it, or to run past the 108 bytes a socket path may have), and the server serves only its own user
(SO_PEERCRED). One message per send (SOCK_SEQPACKET): a client sends one request,
``{"argv": [...], "env": {...}, "cwd": "...", "fds": [0, 2, 3]}`` in JSON with its descriptors attached,
``fds`` saying where each goes in the worker; the server answers ``{"pid": N}`` once forked, then
``{"exit": CODE}`` or ``{"signal": N}`` when the worker has ended (or ``{"error": "..."}`` instead).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import selectors
import signal
import socket
import sys
import traceback

from .peer_credentials import peer_credentials

#: The largest request (its JSON: arguments, environment, folder); a larger one is refused.
MAX_REQUEST_BYTES = 1 << 20
#: Descriptors a request carries: standard input, standard error, and the local link's socket.
MAX_FDS = 3
_PR_SET_PDEATHSIG = 1
#: How often ended children are looked for where the kernel has no pidfd (before Linux 5.3).
_POLL_S = 0.1


class _Child:
    """A forked worker and the client connection it belongs to."""

    def __init__(self, conn: socket.socket, pid: int):
        self.conn = conn
        self.pid = pid
        self.pidfd: int | None = None
        self.ended = False


class Forked(BaseException):
    """Raised in a new child, out of the server's loop: what remains is to become the worker (main)."""

    def __init__(self, server: ForkServer, request: dict, fds: list[int]):
        super().__init__()
        self.server, self.request, self.fds = server, request, fds


class ForkServer:
    def __init__(self, name: str):
        self.pid = os.getpid()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.listener.bind("\0" + name)
        self.listener.listen(64)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, self._accept)
        self.selector.register(0, selectors.EVENT_READ, self._stdin)
        self.children: dict[socket.socket, _Child | None] = {}  # by connection; None until forked
        self.polled: list[_Child] = []  # children without a pidfd

    def serve(self) -> None:
        while True:
            for key, _ in self.selector.select(_POLL_S if self.polled else None):
                try:
                    key.data(key.fileobj)
                except Exception:  # noqa: BLE001 (one client's trouble must not end the others' workers)
                    traceback.print_exc()
            for child in [c for c in self.polled if self._reaped(c)]:
                self.polled.remove(child)

    def _stdin(self, _fd: int) -> None:
        if not os.read(0, 65536):  # Node went away
            for child in self.children.values():
                if child is not None and not child.ended:
                    _kill(child.pid)
            sys.exit(0)

    def _accept(self, _listener: socket.socket) -> None:
        conn, _ = self.listener.accept()
        _pid, uid = peer_credentials(conn)
        if uid != os.getuid():
            conn.close()
            return
        self.children[conn] = None
        self.selector.register(conn, selectors.EVENT_READ, self._readable)

    def _readable(self, conn: socket.socket) -> None:
        if conn not in self.children:
            return  # an event from the same poll as its worker's end, which closed it
        child = self.children[conn]
        if child is not None:
            # A client says nothing after its request: readable means it is gone, and its worker goes too.
            try:
                gone = not conn.recv(1)
            except OSError:
                gone = True
            if gone:
                self.selector.unregister(conn)
                if not child.ended:
                    _kill(child.pid)
            return
        try:
            data, fds, flags, _ = socket.recv_fds(conn, MAX_REQUEST_BYTES, MAX_FDS)
        except OSError:
            data, fds, flags = b"", [], 0
        if not data:
            self._close(conn, fds)
            return
        try:
            if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
                raise ValueError(f"a request over {MAX_REQUEST_BYTES} bytes or {MAX_FDS} descriptors")
            request = _checked(json.loads(data), len(fds))
        except (ValueError, RecursionError) as exc:
            _send(conn, {"error": f"bad request: {exc}"})
            self._close(conn, fds)
            return
        self._fork(conn, request, fds)

    def _fork(self, conn: socket.socket, request: dict, fds: list[int]) -> None:
        try:
            pid = os.fork()
        except OSError as exc:
            _send(conn, {"error": f"fork failed: {exc}"})
            self._close(conn, fds)
            return
        if pid == 0:
            raise Forked(self, request, fds)
        for fd in fds:
            os.close(fd)
        child = _Child(conn, pid)
        self.children[conn] = child
        try:
            child.pidfd = os.pidfd_open(pid)
            self.selector.register(child.pidfd, selectors.EVENT_READ, lambda _fd: self._reaped(child))
        except (AttributeError, OSError):
            self.polled.append(child)
        _send(conn, {"pid": pid})

    def _reaped(self, child: _Child) -> bool:
        """Whether the child has ended; if so, its end is told to its client, and both are forgotten."""
        pid, status = os.waitpid(child.pid, os.WNOHANG)
        if pid == 0:
            return False
        child.ended = True
        code = os.waitstatus_to_exitcode(status)
        _send(child.conn, {"signal": -code} if code < 0 else {"exit": code})
        if child.pidfd is not None:
            self.selector.unregister(child.pidfd)
            os.close(child.pidfd)
        self._close(child.conn, [])
        return True

    def _close(self, conn: socket.socket, fds: list[int]) -> None:
        for fd in fds:
            os.close(fd)
        self.children.pop(conn, None)
        try:
            self.selector.unregister(conn)
        except KeyError:
            pass  # unregistered already: its client went first
        conn.close()

    def forget(self) -> None:
        """In a child: closes the server's own descriptors (listener, poller, clients, pidfds)."""
        self.selector.close()
        self.listener.close()
        for conn, child in self.children.items():
            conn.close()
            if child is not None and child.pidfd is not None:
                os.close(child.pidfd)


def _checked(request: object, received: int) -> dict:
    """The request, if it is one: strings where strings go, and a place for each descriptor received."""
    if not isinstance(request, dict):
        raise ValueError("not a JSON object")
    argv, env, cwd, targets = (request.get(k) for k in ("argv", "env", "cwd", "fds"))
    if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
        raise ValueError("argv: not a list of strings")
    if not (isinstance(env, dict) and all(isinstance(v, str) for v in env.values())):
        raise ValueError("env: not an object of strings")
    if not isinstance(cwd, str):
        raise ValueError("cwd: not a string")
    if not (isinstance(targets, list) and len(targets) == received and targets[:2] == [0, 2]
            and all(isinstance(t, int) and t >= 3 for t in targets[2:])):
        raise ValueError(f"fds: {received} descriptors arrived, for places {targets!r} (0 and 2 first)")
    return request


def _become_worker(forked: Forked) -> None:
    """In the child: the client's descriptors, environment, folder and arguments, then the worker's main.
    It ends as ``python -m tfbridge_worker`` does, through the interpreter's own exit."""
    request, fds = forked.request, forked.fds
    _die_with(forked.server.pid)
    forked.server.forget()
    os.setpgid(0, 0)  # a terminal's Ctrl-C reaches the worker once, through its client, not twice
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    # The received descriptors are all 3 or above (the server's own 0 to 2 are open), and places 0 and 2
    # are filled before 3, so no descriptor is overwritten before it is copied.
    targets = request["fds"]
    for target, fd in zip(targets, fds):
        if fd != target:
            os.dup2(fd, target)
    for fd in set(fds) - set(targets):
        os.close(fd)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh interpreter
    if "numpy.random" in sys.modules:  # seeded at its import: the children would all draw the same
        sys.modules["numpy.random"].seed()
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.path[0] = request["cwd"]  # where `python -m` puts it
    sys.argv = ["tfbridge_worker", *request["argv"]]
    from .__main__ import main

    main()


def _die_with(server_pid: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != server_pid:  # the server died before the call: nobody would ever kill this child
        os._exit(1)


def _send(conn: socket.socket, message: dict) -> None:
    try:
        conn.send(json.dumps(message).encode())
    except OSError:
        pass  # the client is gone; the worker was killed with it


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(prog="tfbridge_worker.fork_server")
    parser.add_argument("--socket", required=True, help="the abstract AF_UNIX name to listen on (no leading NUL)")
    opts = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # as the worker's main() sets it, before the import
    # Node starts it in a process group of its own (fork-server.ts), out of a terminal's Ctrl-C; should one
    # reach it anyway, it waits for Node to go (its stdin closing) rather than die with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Everything a worker imports, so that none of it is left to each child.
    from . import __main__, connected, link, ops, proxies  # noqa: F401

    gc.freeze()  # what the import made stays put: the children copy fewer pages when they collect
    server = ForkServer(opts.socket)
    try:
        server.serve()  # returns only by raising: SystemExit when Node is gone, Forked in each child
    except Forked as forked:
        child = forked
    _become_worker(child)  # outside the handler: the worker's own errors carry no Forked as their context


if __name__ == "__main__":
    main()

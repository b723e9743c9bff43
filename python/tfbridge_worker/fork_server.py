"""``python -m tfbridge_worker.fork_server --socket PATH``: imports TensorFlow once, then forks workers.

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

On the socket (AF_UNIX, SOCK_SEQPACKET: one message per send), a client sends one request,
``{"argv": [...], "env": {...}, "cwd": "..."}`` in JSON with its descriptors attached; the server answers
``{"pid": N}`` once forked, then ``{"exit": CODE}`` or ``{"signal": N}`` when the worker has ended (or
``{"error": "..."}`` if it could not fork).
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

#: The largest request (its JSON: arguments, environment, folder); a larger one is refused.
MAX_REQUEST_BYTES = 1 << 20
#: Descriptors a request carries: standard input, standard error, and the local link's socket.
MAX_FDS = 3
_PR_SET_PDEATHSIG = 1
#: How often ended children are looked for where the kernel has no pidfd (before Linux 5.3).
_POLL_S = 0.1


def encode(message: dict) -> bytes:
    return json.dumps(message).encode()


class _Child:
    """A forked worker and the client connection it belongs to."""

    def __init__(self, conn: socket.socket, pid: int):
        self.conn = conn
        self.pid = pid
        self.pidfd: int | None = None
        self.ended = False


class ForkServer:
    def __init__(self, path: str):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.listener.bind(path)
        self.listener.listen(64)
        self.path = path
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, self._accept)
        self.selector.register(0, selectors.EVENT_READ, self._stdin)
        self.children: dict[socket.socket, _Child | None] = {}  # by connection; None until forked
        self.polled: list[_Child] = []  # children without a pidfd

    def serve(self) -> None:
        while True:
            for key, _ in self.selector.select(_POLL_S if self.polled else None):
                key.data(key.fileobj)
            for child in [c for c in self.polled if self._reaped(c)]:
                self.polled.remove(child)

    def _stdin(self, _fd: int) -> None:
        if not os.read(0, 65536):  # Node went away
            for child in self.children.values():
                if child is not None and not child.ended:
                    _kill(child.pid)
            try:
                os.unlink(self.path)
            except OSError:
                pass
            sys.exit(0)

    def _accept(self, _listener: socket.socket) -> None:
        conn, _ = self.listener.accept()
        self.children[conn] = None
        self.selector.register(conn, selectors.EVENT_READ, self._readable)

    def _readable(self, conn: socket.socket) -> None:
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
            request = json.loads(data)
            if len(fds) < 2:
                raise ValueError("a request without standard input and standard error")
        except ValueError as exc:
            _send(conn, {"error": f"bad request: {exc}"})
            self._close(conn, fds)
            return
        self._fork(conn, request, fds)

    def _fork(self, conn: socket.socket, request: dict, fds: list[int]) -> None:
        gc.freeze()  # objects from the import stay where they are: fewer pages copied in the child
        try:
            pid = os.fork()
        except OSError as exc:
            _send(conn, {"error": f"fork failed: {exc}"})
            self._close(conn, fds)
            return
        if pid == 0:
            self._become_worker(request, fds)  # never returns
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

    def _become_worker(self, request: dict, fds: list[int]) -> None:
        code = 1
        try:
            _die_with_parent()
            # The server's own descriptors are not the worker's: its listener, clients and pidfds.
            self.selector.close()
            self.listener.close()
            for conn, child in self.children.items():
                conn.close()
                if child is not None and child.pidfd is not None:
                    os.close(child.pidfd)
            devnull = os.open(os.devnull, os.O_WRONLY)
            wanted = {0: fds[0], 1: devnull, 2: fds[1]}
            if len(fds) > 2:
                wanted[3] = fds[2]
            for target, fd in wanted.items():
                if fd != target:
                    os.dup2(fd, target)
            for fd in set(fds) | {devnull}:
                if fd not in wanted:
                    os.close(fd)
            signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh interpreter
            os.environ.clear()
            os.environ.update(request["env"])
            os.chdir(request["cwd"])
            sys.argv = ["tfbridge_worker", *request["argv"]]
            from .__main__ import main

            main()
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc.code)
        except BaseException:  # noqa: BLE001 (the worker's own failure: reported as python would)
            traceback.print_exc()
        finally:
            try:
                import atexit

                atexit._run_exitfuncs()
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the server died before the call: nobody would ever kill this child
        os._exit(1)


def _send(conn: socket.socket, message: dict) -> None:
    try:
        conn.send(encode(message))
    except OSError:
        pass  # the client is gone; the worker was killed with it


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(prog="tfbridge_worker.fork_server")
    parser.add_argument("--socket", required=True, help="where to listen (AF_UNIX, SOCK_SEQPACKET), in a private folder")
    opts = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # as the worker's main() sets it, before the import
    # A terminal's Ctrl-C reaches the whole process group: the workers stop on it, as they always did,
    # while the server waits for Node to go (its stdin closing) rather than die with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Everything a worker imports, so that none of it is left to each child.
    from . import __main__, connected, link, ops, proxies  # noqa: F401

    server = ForkServer(opts.socket)
    server.serve()


if __name__ == "__main__":
    main()

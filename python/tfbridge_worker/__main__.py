"""``python -m tfbridge_worker --endpoint ipc:///path/worker.sock``"""

from __future__ import annotations

import argparse
import os
import sys
import threading


def _exit_when_stdin_closes() -> None:
    # The parent holds our stdin open; when it dies, even by SIGKILL, the pipe closes and we follow.
    def watch() -> None:
        while sys.stdin.buffer.read(65536):
            pass
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(prog="tfbridge_worker")
    parser.add_argument("--endpoint", required=True, help="ZeroMQ endpoint to bind, e.g. ipc:///tmp/x/worker.sock")
    parser.add_argument("--exit-with-stdin", action="store_true", help="exit when standard input closes")
    opts = parser.parse_args()
    host = opts.endpoint.partition("://")[2].rpartition(":")[0]
    if opts.endpoint.startswith("tcp://") and host not in ("127.0.0.1", "localhost", "[::1]"):
        parser.error("only loopback TCP endpoints are allowed; use ipc:// or tcp://127.0.0.1:PORT")
    if opts.exit_with_stdin:
        _exit_when_stdin_closes()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from .server import serve  # imports TensorFlow: after the checks, so bad flags fail fast

    serve(opts.endpoint)


if __name__ == "__main__":
    main()

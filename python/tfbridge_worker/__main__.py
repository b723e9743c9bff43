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
    parser.add_argument("--pythonia-dir", help="pythonia's Python sources, to serve proxies (op py.start)")
    parser.add_argument("--pythonia-endpoint", help="ZeroMQ endpoint the proxy channel binds")
    opts = parser.parse_args()
    if bool(opts.pythonia_dir) != bool(opts.pythonia_endpoint):
        parser.error("--pythonia-dir and --pythonia-endpoint go together")
    for endpoint in filter(None, (opts.endpoint, opts.pythonia_endpoint)):
        host = endpoint.partition("://")[2].rpartition(":")[0]
        if endpoint.startswith("tcp://") and host not in ("127.0.0.1", "localhost", "[::1]"):
            parser.error("only loopback TCP endpoints are allowed; use ipc:// or tcp://127.0.0.1:PORT")
    if opts.exit_with_stdin:
        _exit_when_stdin_closes()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from .proxies import ProxyChannel
    from .server import serve  # imports TensorFlow: after the checks, so bad flags fail fast

    proxies = ProxyChannel(opts.pythonia_dir, opts.pythonia_endpoint) if opts.pythonia_dir else None
    serve(opts.endpoint, proxies)


if __name__ == "__main__":
    main()

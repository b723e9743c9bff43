"""``python -m tfbridge_worker --connect ENDPOINT`` (join a pool) or ``--link-fd 3 --link-regions IN OUT`` (the local link)."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from .curve import read_curve_keys
from .endpoints import LOCAL_TRANSPORTS, NETWORK_TRANSPORTS, is_local


def _exit_when_stdin_closes() -> None:
    # The parent holds our stdin open; when it dies, even by SIGKILL, the pipe closes and we follow.
    # os.read on the descriptor, not sys.stdin.buffer: a daemon thread blocked inside the buffered
    # reader holds its lock, and interpreter shutdown then aborts ("_enter_buffered_busy", SIGABRT).
    def watch() -> None:
        while os.read(0, 65536):
            pass
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(prog="tfbridge_worker")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--connect", help="join a pool: connect to its ROUTER here, e.g. tcp://10.0.0.5:5555")
    where.add_argument("--link-fd", type=int, help="serve one client over the local link: this end of a Unix socket "
                       "pair, with shared memory from --link-regions (python/tfbridge_worker/link.py)")
    parser.add_argument("--link-regions", nargs=2, metavar=("INPUTS", "OUTPUTS"), help="the local link's two shared-memory files")
    parser.add_argument("--curve-keys", help="file with this worker's CurveZMQ public and secret key (Z85, one per line)")
    parser.add_argument("--curve-server-key", help="file with the pool's CurveZMQ public key (Z85)")
    parser.add_argument("--temp-dir", help="a private folder for this process's temporary files (TensorFlow's autograph "
                        "modules, …), which the caller removes when the worker ends, however it ends")
    parser.add_argument("--exit-with-stdin", action="store_true", help="exit when standard input closes")
    parser.add_argument("--pythonia-dir", help="pythonia's Python sources, to serve proxies (op py.start)")
    parser.add_argument("--pythonia-endpoint", help="ZeroMQ endpoint the proxy channel binds")
    opts = parser.parse_args()
    if opts.connect:
        # Until it serves (importing TensorFlow takes seconds), Ctrl-C ends the worker as SIGTERM does, by
        # the signal and without a KeyboardInterrupt traceback; once it serves, both make it leave its pool.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    if (opts.link_fd is None) != (opts.link_regions is None):
        parser.error("--link-fd and --link-regions go together")
    if bool(opts.pythonia_dir) != bool(opts.pythonia_endpoint):
        parser.error("--pythonia-dir and --pythonia-endpoint go together")
    if opts.pythonia_endpoint and not is_local(opts.pythonia_endpoint):
        parser.error(f"{opts.pythonia_endpoint} is not loopback; use ipc:// or tcp://127.0.0.1:PORT")
    curve = None
    if opts.connect:
        if opts.connect.partition("://")[0].lower() not in LOCAL_TRANSPORTS | NETWORK_TRANSPORTS:
            parser.error(f"{opts.connect}: only ipc, inproc, tcp, ws and wss endpoints are supported")
        try:
            curve = read_curve_keys(opts.curve_keys, opts.curve_server_key)
        except (OSError, ValueError) as exc:
            parser.error(str(exc))
        if curve is None and not is_local(opts.connect):
            parser.error(f"{opts.connect} is not loopback: CurveZMQ keys are required (--curve-keys, --curve-server-key "
                         "or TFBRIDGE_CURVE_PUBLIC_KEY, TFBRIDGE_CURVE_SECRET_KEY, TFBRIDGE_CURVE_SERVER_KEY)")
    if opts.exit_with_stdin:
        _exit_when_stdin_closes()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if opts.temp_dir:
        # autograph writes a module per converted function into tempfile's folder and deletes them only
        # in an atexit hook, which a terminated worker never runs: they go to the caller's folder instead.
        import tempfile

        # Not makedirs: a caller that already removed the parent (it exited) must not get it back.
        if not os.path.isdir(opts.temp_dir):
            os.mkdir(opts.temp_dir)
        tempfile.tempdir = opts.temp_dir
    # The serving modes import TensorFlow (through .ops): only here, after the checks, so bad flags fail fast.
    from .proxies import ProxyChannel

    proxies = ProxyChannel(opts.pythonia_dir, opts.pythonia_endpoint) if opts.pythonia_dir else None
    if opts.connect:
        from .connected import ConnectedWorker
        from .ops import Ops

        ConnectedWorker(opts.connect, Ops(proxies), curve).run()
    else:
        from .link import serve_link

        serve_link(opts.link_fd, *opts.link_regions, proxies)


if __name__ == "__main__":
    main()

"""A worker's normal exit is a clean one (issue 10, section 5: every exit used to be a SIGABRT)."""

import subprocess
import sys
import tempfile

import zmq

from conftest import PYTHON_DIR
from tfbridge_worker.codec import decode, encode


def test_disconnect_with_the_stdin_watcher_running_exits_0_without_a_fatal_error():
    with tempfile.TemporaryDirectory() as d:
        endpoint = f"ipc://{d}/pool.sock"
        router = zmq.Context.instance().socket(zmq.ROUTER)
        router.linger, router.rcvtimeo = 0, 120_000
        router.bind(endpoint)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tfbridge_worker", "--connect", endpoint, "--exit-with-stdin"],
            cwd=PYTHON_DIR, stdin=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        try:
            identity, *frames = router.recv_multipart()
            assert decode(frames)[0]["ctl"] == "ready"
            router.send_multipart([identity, *encode({"id": None, "ctl": "disconnect"})])
            proc.wait(timeout=60)  # stdin stays open: the watcher thread is still reading it
            stderr = proc.stderr.read().decode()
        finally:
            proc.kill()
            proc.stdin.close()
            proc.stderr.close()
            router.close()
        assert "Fatal Python error" not in stderr, stderr
        assert proc.returncode == 0

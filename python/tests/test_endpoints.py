"""Loopback is decided by address, for every transport (issue 10, break 1). No traffic is sent."""

import subprocess
import sys

import pytest

from conftest import PYTHON_DIR
from tfbridge_worker.endpoints import is_local


@pytest.mark.parametrize("endpoint", [
    "ipc:///tmp/x/worker.sock", "inproc://x", "tcp://127.0.0.1:5555", "tcp://127.3.4.5:1", "tcp://[::1]:5555",
    "tcp://localhost:5555", "ws://127.0.0.1:5556/path", "tcp://[::ffff:127.0.0.1]:9",
])
def test_local_endpoints(endpoint):
    assert is_local(endpoint)


@pytest.mark.parametrize("endpoint", [
    "ws://10.203.0.1:5556", "wss://10.203.0.1:5556/x", "tcp://127.0.0.1;192.0.2.9:5555", "tcp://*:5555",
    "tcp://0.0.0.0:5555", "tcp://[::]:5555", "tcp://[::ffff:10.0.0.1]:9", "udp://127.0.0.1:5555",
    "pgm://eth0;239.192.1.1:5555", "tcp://192.0.2.2:5555", "nonsense",
])
def test_endpoints_others_can_reach_or_that_are_unknown(endpoint):
    assert not is_local(endpoint)


def test_the_worker_refuses_an_unknown_transport_before_importing_anything():
    run = subprocess.run([sys.executable, "-m", "tfbridge_worker", "--connect", "udp://127.0.0.1:5555"], cwd=PYTHON_DIR, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "only ipc, inproc, tcp, ws and wss" in run.stderr


def test_a_key_file_other_users_may_read_is_refused(tmp_path):
    from tfbridge_worker.curve import read_curve_keys

    keys, server = tmp_path / "worker.keys", tmp_path / "server.pub"
    keys.write_text("a" * 40 + "\n" + "b" * 40 + "\n")
    server.write_text("c" * 40)
    keys.chmod(0o644)
    with pytest.raises(ValueError, match=r"other users may read it \(mode 0644\): chmod 600"):
        read_curve_keys(str(keys), str(server))
    keys.chmod(0o600)
    assert read_curve_keys(str(keys), str(server)).secret == b"b" * 40

"""Pool mode against a real worker process: handshake, heartbeats, cancellation, deadlines, disconnect."""

import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
import zmq

from conftest import PYTHON_DIR
from tfbridge_worker.codec import decode, encode
from tfbridge_worker.connected import GRACE_S, HEARTBEAT_S, LEAVE_S, RECONNECT_S
from tfbridge_worker.protocol import HEARTBEAT_ROUTING_ID_SUFFIX
from tfbridge_worker.stop_signals import REPEAT_S as STOP_REPEAT_S


class FakePool:
    """A ROUTER standing in for the pool: answers heartbeats where they came from, follows the
    worker's identity (that of its request connection) and that of its heartbeat connection."""

    def __init__(self, endpoint: str):
        self.socket = zmq.Context.instance().socket(zmq.ROUTER)
        self.socket.linger = 0
        self.socket.bind(endpoint)
        self.identity = None
        self.heartbeat_identity = None
        self.heard_leaving = False

    def receive(self, timeout_s: float):
        """The next message as (header, arrays), heartbeats included; zmq.Again on timeout."""
        self.socket.rcvtimeo = max(1, int(timeout_s * 1000))
        identity, *frames = self.socket.recv_multipart()
        header, arrays = decode(frames)
        if identity.endswith(HEARTBEAT_ROUTING_ID_SUFFIX) and len(identity) == 16 + len(HEARTBEAT_ROUTING_ID_SUFFIX):
            self.heartbeat_identity = identity
        else:
            self.identity = identity
        if header.get("ctl") == "heartbeat":
            self.socket.send_multipart([identity, *encode({"id": None, "ctl": "heartbeat"})])
        return header, arrays

    def reply(self, timeout_s: float = 10):
        """The next message that is not a heartbeat, nor a repeat of a leaving worker's `leaving`."""
        end = time.monotonic() + timeout_s
        while True:
            header, arrays = self.receive(end - time.monotonic())
            if header.get("ctl") == "leaving":
                if self.heard_leaving:
                    continue
                self.heard_leaving = True
            if header.get("ctl") != "heartbeat":
                return header, arrays

    def send(self, header: dict, arrays=()) -> None:
        self.socket.send_multipart([self.identity, *encode(header, arrays)])

    def fall_silent(self, deadline: float, until=lambda: False) -> None:
        """Reads without answering, as a pool that is gone, until `deadline` or until `until()` holds."""
        self.socket.rcvtimeo = 100
        while time.monotonic() < deadline and not until():
            try:
                self.socket.recv_multipart()
            except zmq.Again:
                pass


@pytest.fixture(scope="module")
def pool():
    with tempfile.TemporaryDirectory() as d:
        fake = FakePool(f"ipc://{d}/pool.sock")
        env = {**os.environ, "TFBRIDGE_WORKER_TOKEN": "token-1"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "tfbridge_worker", "--connect", f"ipc://{d}/pool.sock"], cwd=PYTHON_DIR, env=env
        )
        ready, _ = fake.receive(120)
        yield fake, ready, proc
        proc.kill()
        proc.wait()


def test_the_worker_announces_itself_with_its_token(pool):
    _, ready, proc = pool
    assert ready["ctl"] == "ready" and ready["token"] == "token-1"
    assert ready["info"]["pid"] == proc.pid and ready["info"]["tensorflow"].startswith("2.21")


def test_requests_are_answered_and_heartbeats_keep_coming(pool):
    fake, _, _ = pool
    fake.send({"id": 1, "op": "hello", "args": {}, "deadlineMs": 5000})
    header, _ = fake.reply()
    assert header["id"] == 1 and header["ok"]
    beats, end = 0, time.monotonic() + 4 * HEARTBEAT_S
    while time.monotonic() < end:
        try:
            beats += fake.receive(0.1)[0].get("ctl") == "heartbeat"
        except zmq.Again:
            pass
    assert beats >= 2


def test_a_cancelled_or_expired_request_is_not_run(pool):
    fake, _, _ = pool
    fake.send({"id": 10, "op": "sleep", "args": {"seconds": 0.5}, "deadlineMs": 5000})
    fake.send({"id": 11, "op": "hello", "args": {}, "deadlineMs": 5000})
    fake.send({"id": 11, "ctl": "cancel"})
    fake.send({"id": 12, "op": "hello", "args": {}, "deadlineMs": 0})
    replies = {h["id"]: h for h, _ in (fake.reply() for _ in range(3))}
    assert replies[10]["ok"]
    assert replies[11]["error"]["kind"] == "cancelled"
    assert replies[12]["error"]["kind"] == "cancelled"


def test_a_request_past_its_deadline_silences_the_heartbeat(pool):
    fake, _, _ = pool
    fake.send({"id": 20, "op": "sleep", "args": {"seconds": 4}, "deadlineMs": 100})
    quiet_from = time.monotonic() + 0.1 + GRACE_S + HEARTBEAT_S  # deadline, grace, one beat in flight
    while time.monotonic() < quiet_from:
        try:
            fake.receive(quiet_from - time.monotonic())
        except zmq.Again:
            pass
    with pytest.raises(zmq.Again):
        fake.receive(2 * HEARTBEAT_S)  # stuck: no heartbeat
    header, _ = fake.reply()  # the sleep ends and is answered
    assert header["id"] == 20 and header["ok"]


def test_rejoin_makes_the_worker_announce_itself_again(pool):
    """A pool that counted the worker as gone (an outage) asks it back instead of losing it."""
    fake, _, proc = pool
    fake.send({"id": None, "ctl": "rejoin"})
    header, _ = fake.reply()
    assert header["ctl"] == "ready" and header["info"]["pid"] == proc.pid and header["token"] == "token-1"
    fake.send({"id": 30, "op": "hello", "args": {}})
    assert fake.reply()[0]["id"] == 30


def test_routing_ids_are_random_not_sequential(pool):
    fake, _, _ = pool
    assert len(fake.identity) == 16 and fake.identity[0] != 0


def test_heartbeats_come_on_a_connection_of_their_own(pool):
    """Not behind a long message on the request connection: the worker's id plus the suffix."""
    fake, _, _ = pool
    end = time.monotonic() + 4 * HEARTBEAT_S
    while fake.heartbeat_identity is None and time.monotonic() < end:
        try:
            fake.receive(0.1)
        except zmq.Again:
            pass
    assert fake.heartbeat_identity == fake.identity + HEARTBEAT_ROUTING_ID_SUFFIX


def test_disconnect_ends_the_worker(pool):
    fake, _, proc = pool
    fake.send({"id": None, "ctl": "disconnect"})
    assert proc.wait(timeout=30) == 0


@pytest.fixture
def lone_worker(tmp_path):
    """A worker of its own (these tests end it), its stderr kept, joined to a FakePool."""
    fake = FakePool(f"ipc://{tmp_path}/pool.sock")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tfbridge_worker", "--connect", f"ipc://{tmp_path}/pool.sock"],
        cwd=PYTHON_DIR, stderr=subprocess.PIPE, text=True,
    )
    try:
        fake.receive(120)  # ready
        yield fake, proc
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
        fake.socket.close()


def test_a_long_silence_from_the_pool_does_not_churn_sockets(lone_worker):
    """While the pool is silent the worker makes a new socket rarely (backing off), not every beat."""
    fake, proc = lone_worker
    fake.fall_silent(time.monotonic() + RECONNECT_S + 6)
    proc.kill()
    _, stderr = proc.communicate(timeout=30)
    assert stderr.count('"reconnecting"') == 1, stderr


def test_sigterm_makes_the_worker_leave_answer_what_it_holds_and_end_by_the_signal(lone_worker):
    fake, proc = lone_worker
    fake.send({"id": 40, "op": "sleep", "args": {"seconds": 1.5}})
    fake.send({"id": 41, "op": "hello", "args": {}})  # queued behind it
    proc.send_signal(signal.SIGTERM)
    assert fake.reply()[0]["ctl"] == "leaving"
    assert [fake.reply()[0]["id"] for _ in range(2)] == [40, 41]
    end = time.monotonic() + LEAVE_S + 2  # the pool is there (heartbeats answered): it waits for its word
    repeats = 0
    while time.monotonic() < end:
        try:
            repeats += fake.receive(0.1)[0].get("ctl") == "leaving"
        except zmq.Again:
            pass
    assert proc.poll() is None
    assert repeats >= 2  # said again with its heartbeats, in case the first found no connection
    fake.send({"id": None, "ctl": "disconnect"})
    assert proc.wait(timeout=30) == -signal.SIGTERM
    _, stderr = proc.communicate()
    assert '"leaving"' in stderr and "Traceback" not in stderr


def test_a_leaving_worker_the_pool_forgot_goes_without_rejoining(lone_worker):
    fake, proc = lone_worker
    proc.send_signal(signal.SIGINT)
    assert fake.reply()[0]["ctl"] == "leaving"
    fake.send({"id": None, "ctl": "rejoin"})  # the pool counted it gone meanwhile
    end = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < end:
        try:
            header, _ = fake.receive(0.1)
            assert header.get("ctl") != "ready"
        except zmq.Again:
            pass
    assert proc.wait(timeout=1) == -signal.SIGINT
    assert "Traceback" not in proc.communicate()[1]


def test_a_leaving_worker_whose_pool_fell_silent_goes_once_idle(lone_worker):
    fake, proc = lone_worker
    proc.send_signal(signal.SIGTERM)
    assert fake.reply()[0]["ctl"] == "leaving"
    fake.fall_silent(time.monotonic() + LEAVE_S + 30, until=lambda: proc.poll() is not None)
    assert proc.wait(timeout=1) == -signal.SIGTERM


def test_a_second_stop_signal_ends_the_worker_at_once_but_a_quick_repeat_does_not(lone_worker):
    fake, proc = lone_worker
    fake.send({"id": 50, "op": "sleep", "args": {"seconds": 600}})
    proc.send_signal(signal.SIGINT)
    assert fake.reply()[0]["ctl"] == "leaving"  # the first was handled
    proc.send_signal(signal.SIGINT)  # the same Ctrl-C, forwarded by a parent too
    time.sleep(STOP_REPEAT_S)
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == -signal.SIGINT
    assert "Traceback" not in proc.communicate()[1]

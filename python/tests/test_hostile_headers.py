"""Single hostile messages that used to kill a worker or silence its executor (issue 10, break 3).

Every header field is validated by type and range before use, every message gets exactly one reply,
and an error about a readable request carries that request's id.
"""

import pytest

from raw_headers import raw_header
from tfbridge_worker.codec import decode, encode
from tfbridge_worker.protocol import OP_LIST


def reply_to(worker, frames, timeout_ms=30_000):
    worker.socket.rcvtimeo = timeout_ms
    try:
        worker.send(frames)
        return decode(worker.receive())[0]
    finally:
        worker.socket.rcvtimeo = 120_000


def still_serving(worker, request_id=77):
    header = reply_to(worker, encode({"id": request_id, "op": "hello", "args": {}}))
    assert header["ok"] and header["id"] == request_id
    assert worker.proc.poll() is None


def test_a_v1_json_header_is_refused_naming_both_versions_and_the_worker_serves_on(worker):
    # A client of an older release: its JSON header is answered (in v2) rather than dropped or fatal.
    header = reply_to(worker, [b'{"v":1,"id":40,"op":"hello","args":{},"arrays":[]}'])
    assert header["ok"] is False and header["id"] is None
    assert header["error"]["kind"] == "bad_request"
    assert header["error"]["message"].startswith("wire format v1 (a JSON header) arrived") and header["error"]["message"].endswith("this worker speaks v2")
    still_serving(worker)


@pytest.mark.parametrize("request_id", [2**53, 2**64 - 1])
def test_an_unusable_id_is_refused_with_id_null_and_the_worker_serves_on(worker, request_id):
    header = reply_to(worker, [raw_header(code=OP_LIST.index("hello"), request_id=request_id)])
    assert header["ok"] is False and header["id"] is None
    assert header["error"]["kind"] == "bad_request"
    still_serving(worker)


@pytest.mark.parametrize("deadline", [2**53, 2**64 - 1])
def test_an_unusable_deadline_is_refused_with_the_request_id(worker, deadline):
    header = reply_to(worker, [raw_header(code=OP_LIST.index("hello"), request_id=41, flags=3, deadline=deadline)])
    assert header["ok"] is False and header["id"] == 41
    assert header["error"]["kind"] == "bad_request" and "deadlineMs" in header["error"]["message"]
    still_serving(worker)


@pytest.mark.parametrize(
    "fields, culprit",
    [
        ({"code": 9999}, "op code"),
        ({"json_part": b"[1]"}, "args"),
        ({"json_part": b"{oops"}, "JSON"),
        ({"kind": 3, "code": 99}, "ctl code"),
        ({"kind": 3, "code": 0}, "ctl 'ready'"),
        ({"kind": 1, "code": 0}, "requests and control messages only"),
        ({"kind": 7}, "kind 7"),
        ({"count": 3}, "descriptor"),
    ],
)
def test_other_bad_fields_are_refused_with_the_request_id(worker, fields, culprit):
    header = reply_to(worker, [raw_header(request_id=42, **fields)])
    assert header["ok"] is False and header["id"] == 42
    assert culprit in header["error"]["message"]
    still_serving(worker)


def test_a_bad_bool_payload_is_refused_with_the_request_id(worker):
    header = reply_to(worker, [raw_header([("bool", [2])], request_id=43), bytes([0, 2])])
    assert header["ok"] is False and header["id"] == 43
    assert "0 and 1" in header["error"]["message"]


def test_an_enormous_deadline_means_no_deadline_worth_refusing(worker):
    header = reply_to(worker, encode({"id": 44, "op": "hello", "args": {}, "deadlineMs": 2**53 - 1}))
    assert header["ok"] and header["id"] == 44

"""Single hostile messages that used to kill a worker or silence its executor (issue 10, break 3).

Every header field is validated by type and range before use, every message gets exactly one reply,
and an error about a readable request carries that request's id.
"""

import json

import numpy as np
import pytest
import zmq

from tfbridge_worker.codec import decode, encode


def raw(header: dict | str, *frames: bytes) -> list[bytes]:
    text = header if isinstance(header, str) else json.dumps(header)
    return [text.encode(), *frames]


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


@pytest.mark.parametrize(
    "text",
    [
        '{"v":1,"id":' + "9" * 5000 + ',"op":"hello","args":{}}',
        '{"v":1,"id":NaN,"op":"hello","args":{}}',
        '{"v":1,"id":Infinity,"op":"hello","args":{}}',
        '{"v":1,"id":-Infinity,"op":"hello","args":{}}',
        '{"v":1,"id":1.5,"op":"hello","args":{}}',
        '{"v":1,"id":-1,"op":"hello","args":{}}',
        '{"v":1,"id":' + str(2**53) + ',"op":"hello","args":{}}',
        '{"v":1,"id":true,"op":"hello","args":{}}',
    ],
)
def test_an_unusable_id_is_refused_with_id_null_and_the_worker_serves_on(worker, text):
    header = reply_to(worker, [text.encode()])
    assert header["ok"] is False and header["id"] is None
    assert header["error"]["kind"] == "bad_request"
    still_serving(worker)


@pytest.mark.parametrize("deadline", ["9" * 400, "-5", "NaN", "Infinity", '"soon"', "1e400"])
def test_an_unusable_deadline_is_refused_with_the_request_id(worker, deadline):
    header = reply_to(worker, [('{"v":1,"id":41,"op":"hello","args":{},"deadlineMs":' + deadline + "}").encode()])
    assert header["ok"] is False and header["id"] == 41
    assert header["error"]["kind"] == "bad_request" and "deadlineMs" in header["error"]["message"]
    still_serving(worker)


@pytest.mark.parametrize(
    "fields, culprit",
    [({"op": 5}, "op"), ({"args": [1]}, "args"), ({"arrays": "x"}, "arrays"), ({"ctl": "reboot"}, "ctl")],
)
def test_other_bad_fields_are_refused_with_the_request_id(worker, fields, culprit):
    header = reply_to(worker, raw({"v": 1, "id": 42, "op": "hello", "args": {}, **fields}))
    assert header["ok"] is False and header["id"] == 42
    assert culprit in header["error"]["message"]
    still_serving(worker)


def test_a_bad_bool_payload_is_refused_with_the_request_id(worker):
    header = reply_to(worker, raw({"v": 1, "id": 43, "op": "echo", "args": {}, "arrays": [{"dtype": "bool", "shape": [2]}]}, bytes([0, 2])))
    assert header["ok"] is False and header["id"] == 43
    assert "0 and 1" in header["error"]["message"]


def test_an_enormous_deadline_means_no_deadline_worth_refusing(worker):
    header = reply_to(worker, encode({"id": 44, "op": "hello", "args": {}, "deadlineMs": 2**53 - 1}))
    assert header["ok"] and header["id"] == 44

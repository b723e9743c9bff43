"""Names the worker uses that protocol/wire.json defines for both halves: error kinds and the control
messages a worker sends. Each is checked against the file, so neither half can grow its own."""

from tfbridge_worker import errors
from tfbridge_worker.codec import decode_header, encode
from tfbridge_worker.executor import Executor
from tfbridge_worker.ops import Ops
from tfbridge_worker.protocol import CONTROL_FROM_WORKER, ERROR_KINDS
from tfbridge_worker.replies import error_reply, heartbeat_message, leaving_message, ready_message


def test_every_error_kind_the_worker_reports_is_one_of_wire_json():
    kinds = {cls.kind for cls in vars(errors).values() if isinstance(cls, type) and hasattr(cls, "kind")}
    kinds.add(decode_header(error_reply(1, RuntimeError("x"))[0])["error"]["kind"])  # any other exception
    assert kinds == ERROR_KINDS


def test_every_control_message_the_worker_sends_is_one_of_wire_json(monkeypatch):
    sent = [decode_header(message(*args)[0])["ctl"] for message, args in ((ready_message, (Ops(),)), (heartbeat_message, (0,)), (leaving_message, ()))]

    def reporting(self, args, arrays):  # an op that reports a phase, as long ones do
        self.report("run")
        return {}, arrays, None

    monkeypatch.setattr(Ops, "echo", reporting)
    delivered = []
    executor = Executor(Ops(), delivered.append, threaded=False)
    executor.receive(encode({"id": 1, "op": "echo", "args": {}, "progress": True}))
    executor.run_queued(lambda: None)
    sent += [h["ctl"] for h in (decode_header(frames[0]) for frames in delivered) if "ctl" in h]
    assert sent == ["ready", "heartbeat", "leaving", "progress"]
    assert set(sent) == CONTROL_FROM_WORKER

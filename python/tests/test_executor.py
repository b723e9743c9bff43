"""The executor in process: state it keeps per message stays bounded (issue 10, section 5)."""

import tracemalloc

from tfbridge_worker.codec import encode
from tfbridge_worker.executor import Executor


class NoOps:
    def __call__(self, op, args, arrays):
        return {}, [], None


def test_cancels_for_ids_never_sent_leave_nothing_behind():
    executor = Executor(NoOps(), lambda frames: None)
    cancels = [encode({"id": i, "ctl": "cancel"}) for i in range(100_000)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for frames in cancels:
        assert executor.receive(frames) is None
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 256 * 1024, f"{grown} bytes kept for 100,000 cancels of unknown ids"

"""The proxy channel's object table, shared with the data plane (pythonia's Python half from npm)."""

import tempfile
from pathlib import Path

import numpy as np
import pytest

from tfbridge_worker.errors import BadRequest
from tfbridge_worker.proxies import ProxyChannel

PYTHONIA_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "pythonia" / "src" / "pythonia"


@pytest.fixture(scope="module")
def channel():
    with tempfile.TemporaryDirectory() as d:
        c = ProxyChannel(str(PYTHONIA_DIR), f"ipc://{d}/pythonia.sock")
        yield c


def test_put_and_get_before_start_are_refused(channel):
    with pytest.raises(BadRequest, match="not started"):
        channel.put([np.zeros(1)])


def test_arrays_put_by_the_data_plane_are_proxied_objects(channel):
    channel.start()
    a, b = np.arange(3), np.ones((2, 2), np.float32)
    ffids = channel.put([a, b])
    assert ffids[0] >= ProxyChannel.FIRST_DATA_PLANE_FFID and ffids[1] == ffids[0] + 1
    assert np.array_equal(channel.bridge.m[ffids[0]], a)
    assert np.array_equal(channel.get(ffids[1]), b)


def test_put_keeps_its_own_copy_not_a_view_over_the_wire_buffer(channel):
    # The local link reuses a request's input memory once it has been answered: what put keeps must
    # not change when that memory does.
    channel.start()
    wire = bytearray(np.arange(4, dtype=np.int32).tobytes())
    (ffid,) = channel.put([np.frombuffer(wire, np.int32)])
    wire[:] = bytes(len(wire))
    assert channel.get(ffid).tolist() == [0, 1, 2, 3]


def test_get_converts_through_asarray_and_normalizes(channel):
    (ffid,) = channel.put([np.arange(6, dtype=">i4").reshape(2, 3).T])
    out = channel.get(ffid)
    assert out.dtype == np.dtype("<i4") and out.flags.c_contiguous
    with pytest.raises(BadRequest, match="no proxied object with ffid 12345"):
        channel.get(12345)

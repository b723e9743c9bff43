"""The local link's worker half over a real socket pair and real shared-memory files."""

import socket
import struct
import threading

import numpy as np

from tfbridge_worker.codec import decode, encode
from tfbridge_worker.link import serve_link


def _regions(tmp_path):
    paths = []
    for name in ("inputs", "outputs"):
        path = tmp_path / name
        path.write_bytes(b"\0" * 65536)
        paths.append(str(path))
    return paths


def _message(frames, shared=None):
    """Frames inline, except `shared`: {index: (offset, length)} placed in the input region."""
    shared = shared or {}
    table, inline = b"", b""
    for i, f in enumerate(frames):
        if i in shared:
            table += struct.pack("<BQQ", 1, *shared[i])
        else:
            table += struct.pack("<BQQ", 0, 0, len(f))
            inline += bytes(f)
    body = struct.pack("<BI", 0, len(frames)) + table + inline
    return struct.pack("<I", len(body)) + body


def _reply(sock):
    (length,) = struct.unpack("<I", sock.recv(4, socket.MSG_WAITALL))
    body = sock.recv(length, socket.MSG_WAITALL)
    count = struct.unpack_from("<I", body, 1)[0]
    at, frames = 5 + 17 * count, []
    for where, _, size in struct.iter_unpack("<BQQ", body[5 : 5 + 17 * count]):
        assert where == 0  # small replies travel inline
        frames.append(body[at : at + size])
        at += size
    return decode(frames)


def test_serves_requests_and_stops_at_a_block_outside_the_region(tmp_path):
    ours, theirs = socket.socketpair()
    worker = threading.Thread(target=serve_link, args=(theirs.fileno(), *_regions(tmp_path)), daemon=True)
    worker.start()
    ours.sendall(_message(encode({"id": 1, "op": "echo", "args": {}})))
    header, _ = _reply(ours)
    assert header["id"] == 1 and header["ok"] is True
    head = encode({"id": 2, "op": "echo", "args": {}}, [np.zeros(8, np.uint8)])
    ours.sendall(_message(head, {1: (65536 - 4, 8)}))  # runs past the input region's end
    worker.join(timeout=10)
    assert not worker.is_alive()  # it stopped serving: no read outside the region, no hang

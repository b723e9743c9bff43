"""The local link: one client's worker on the same machine, over a socket pair and shared memory.

Node starts the worker with one end of a Unix socket pair as a file descriptor; nothing listens
anywhere, so no other process can connect. Messages are wire format v1 (the same header and array
frames as over ZeroMQ); on the socket each is framed as

    u32 body length | u8 kind | u32 frame count | count × (u8 where, u64 offset, u64 length) | inline bytes

kind 0 is a message; kind 1 (Node to worker only) releases output blocks, listed by offset and length.
`where` 0: the frame's bytes follow inline, in order; 1: they sit in shared memory at `offset` (the
input region for Node's messages, the output region for the worker's). Small frames travel inline.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading

from .codec import frame_buffer
from .executor import Disconnect, Executor, Rejoin
from .ops import Ops
from .regions import Regions

MESSAGE, RELEASE = 0, 1
INLINE, SHARED = 0, 1
_PREFIX = struct.Struct("<IBI")  # body length, kind, frame count
_FRAME = struct.Struct("<BQQ")  # where, offset, length
#: Frames smaller than this go inline: a block's bookkeeping (and its release) costs more than the copy.
INLINE_MAX = 4096


class LinkError(Exception):
    """The peer broke the link's framing: not something one reply can answer."""


class Link:
    def __init__(self, sock: socket.socket, regions: Regions):
        self.sock = sock
        self.reader = sock.makefile("rb", buffering=1 << 16)
        self.regions = regions
        self.lock = threading.Lock()  # replies come from the executor thread, refusals from the reader

    def read(self) -> tuple[int, list] | None:
        """(kind, frames) of the next message; None once Node has closed its end."""
        prefix = self.reader.read(4)
        if len(prefix) < 4:
            return None
        (length,) = struct.unpack_from("<I", prefix)
        body = bytearray(length)
        if self.reader.readinto(body) != length:
            return None
        view = memoryview(body)
        if length < 5:
            raise LinkError("a message shorter than its kind and frame count")
        kind, count = view[0], struct.unpack_from("<I", view, 1)[0]
        table_end = 5 + count * _FRAME.size
        if kind not in (MESSAGE, RELEASE) or table_end > length:
            raise LinkError(f"message of kind {kind} with {count} frames does not fit its {length} bytes")
        frames, at = [], table_end
        for where, offset, size in _FRAME.iter_unpack(view[5:table_end]):
            if kind == RELEASE:
                frames.append((offset, size))
            elif where == SHARED:
                try:
                    frames.append(self.regions.input(offset, size))
                except ValueError as exc:
                    raise LinkError(str(exc)) from None
            else:
                if at + size > length:
                    raise LinkError("inline frames run past the message")
                frames.append(view[at : at + size])
                at += size
        return kind, frames

    def send(self, frames: list) -> None:
        """One message; array frames of INLINE_MAX bytes or more are placed in the output region if it has room."""
        table, inline = [], []
        for i, frame in enumerate(frames):
            data = frame_buffer(frame).cast("B")
            offset = self.regions.place(data) if i > 0 and data.nbytes >= INLINE_MAX else None
            if offset is None:
                table.append(_FRAME.pack(INLINE, 0, data.nbytes))
                inline.append(data)
            else:
                table.append(_FRAME.pack(SHARED, offset, data.nbytes))
        body_length = 5 + len(table) * _FRAME.size + sum(d.nbytes for d in inline)
        head = _PREFIX.pack(body_length, MESSAGE, len(frames)) + b"".join(table)
        small = [d for d in inline if d.nbytes < INLINE_MAX]
        with self.lock:
            if len(small) == len(inline):
                self.sock.sendall(b"".join([head, *small]))
            else:
                self.sock.sendall(head)
                for d in inline:
                    self.sock.sendall(d)


def serve_link(fd: int, inputs_path: str, outputs_path: str, proxies=None) -> None:
    """Serves one client over the socket pair end `fd`, until it closes or says disconnect."""
    link = Link(socket.socket(fileno=fd), Regions(inputs_path, outputs_path))
    executor = Executor(Ops(proxies), lambda _route, frames: link.send(frames))
    print(json.dumps({"listening": f"local link, fd {fd}"}), file=sys.stderr, flush=True)
    while True:
        try:
            message = link.read()
        except LinkError as exc:
            print(json.dumps({"link_error": str(exc)}), file=sys.stderr, flush=True)
            return
        if message is None:
            return
        kind, frames = message
        if kind == RELEASE:
            for offset, size in frames:
                link.regions.allocator.release(offset, size)
            continue
        try:
            reply = executor.receive(None, frames)
        except Disconnect:
            return
        except Rejoin:
            continue  # a pool's request; one client's worker has no membership to renew
        if reply is not None:
            link.send(reply)

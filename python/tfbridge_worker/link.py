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
from .executor import GRACE_S, Disconnect, Executor, Rejoin
from .ops import Ops
from .protocol import HEARTBEAT_S
from .regions import Regions
from .replies import heartbeat_message, ready_message

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
        self.buffer = bytearray()  # bytes received and not yet parsed
        self.regions = regions
        self.sending = threading.Lock()  # the serving thread and the heartbeat thread both send

    def read(self, block: bool = True) -> tuple[int, list] | None:
        """(kind, frames) of the next message; None when none is complete and `block` is false.

        Raises EOFError once Node has closed its end, LinkError when it broke the framing.
        """
        while True:
            if len(self.buffer) >= 4:
                (length,) = struct.unpack_from("<I", self.buffer)
                if len(self.buffer) >= 4 + length:
                    # Its own copy: frames (and arrays over them) may outlive the receive buffer's next resize.
                    body = self.buffer[4 : 4 + length]
                    del self.buffer[: 4 + length]
                    return self._parse(memoryview(body))
                want = 4 + length - len(self.buffer)
            else:
                want = 4 - len(self.buffer)
            try:
                chunk = self.sock.recv(max(want, 1 << 16), 0 if block else socket.MSG_DONTWAIT)
            except BlockingIOError:
                return None
            if not chunk:
                raise EOFError
            self.buffer += chunk

    def _parse(self, view: memoryview) -> tuple[int, list]:
        length = len(view)
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
        with self.sending:
            self._send(frames)

    def _send(self, frames: list) -> None:
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
        if all(d.nbytes < INLINE_MAX for d in inline):
            self.sock.sendall(b"".join([head, *inline]))
        else:
            self.sock.sendall(head)
            for d in inline:
                self.sock.sendall(d)


def serve_link(fd: int, inputs_path: str, outputs_path: str, proxies=None) -> None:
    """Serves one client over the socket pair end `fd`, until it closes or says disconnect.

    One thread reads and runs requests (the executor inline): a request costs no hand-off between
    threads. While one runs, later messages wait in the socket; all that arrived are read before the
    next starts, so a cancel reaches the request it names if that has not started yet.
    """
    link = Link(socket.socket(fileno=fd), Regions(inputs_path, outputs_path))
    executor = Executor(Ops(proxies), lambda _route, frames: link.send(frames), threaded=False)

    def take(message: tuple[int, list]) -> None:
        kind, frames = message
        if kind == RELEASE:
            for offset, size in frames:
                link.regions.allocator.release(offset, size)
            return
        try:
            reply = executor.receive(None, frames)
        except Rejoin:
            return  # a pool's request; one client's worker has no membership to renew
        if reply is not None:
            link.send(reply)

    def take_arrivals() -> None:
        while (message := link.read(block=False)) is not None:
            take(message)

    print(json.dumps({"listening": f"local link, fd {fd}"}), file=sys.stderr, flush=True)
    link.send(ready_message(executor.ops))  # the regions are mapped: Node may unlink their names
    stopped = threading.Event()
    threading.Thread(target=_heartbeat, args=(link, executor, stopped), name="heartbeat", daemon=True).start()
    try:
        while True:
            take(link.read())
            executor.run_queued(take_arrivals)
    except (EOFError, Disconnect):
        return
    except LinkError as exc:
        print(json.dumps({"link_error": str(exc)}), file=sys.stderr, flush=True)
    finally:
        stopped.set()


def _heartbeat(link: Link, executor: Executor, stopped: threading.Event) -> None:
    """Tells Node this worker is alive, from a thread of its own so a long request does not silence it.

    It falls silent while a request runs past its deadline (plus GRACE_S): stuck in Python, the worker
    stops vouching for itself, and Node gives up on it. It ends when serving does.
    """
    while not stopped.wait(HEARTBEAT_S):
        if executor.overdue(GRACE_S):
            continue
        try:
            link.send(heartbeat_message(executor.busy))
        except OSError:
            return

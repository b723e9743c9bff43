"""The local link: one client's worker on the same machine, over a socket pair and shared memory.

Node starts the worker with one end of a Unix socket pair as a file descriptor; nothing listens
anywhere, so no other process can connect. Messages are wire format v2 (the same header and array
frames as over ZeroMQ); on the socket each is framed as protocol/local-link.json lays out:

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

import numpy as np

from .codec import frame_buffer
from .executor import GRACE_S, Disconnect, Executor, Rejoin
from .ops import Ops
from .protocol import HEARTBEAT_S, LOCAL_LINK, struct_format
from .regions import Regions
from .replies import heartbeat_message, ready_message

MESSAGE, RELEASE = LOCAL_LINK["kinds"]["message"], LOCAL_LINK["kinds"]["release"]
INLINE, SHARED = LOCAL_LINK["where"]["inline"], LOCAL_LINK["where"]["shared"]
_PREFIX = struct.Struct(struct_format(LOCAL_LINK["prefix"]))  # body length, kind, frame count
_FRAME = struct.Struct(struct_format(LOCAL_LINK["entry"]))  # where, offset, length
_LENGTH = struct.Struct("<I")
_COUNT = struct.Struct("<I")
_ONE_INLINE = struct.Struct(_PREFIX.format + _FRAME.format[1:])  # prefix and table of a message of one inline frame
#: The reused receive buffer's size; a longer message is received into a buffer of its own.
RECEIVE_BYTES = 1 << 16
#: Frames smaller than this go inline: a block's bookkeeping (and its release) costs more than the copy.
INLINE_MAX: int = LOCAL_LINK["inlineMax"]
#: Small messages held back at most, before they go in one send (see Link.hold).
HOLD_MAX = 64


class LinkError(Exception):
    """The peer broke the link's framing: not something one reply can answer."""


class Link:
    def __init__(self, sock: socket.socket, regions: Regions):
        self.sock = sock
        self.regions = regions
        self.sending = threading.Lock()  # the serving thread and the heartbeat thread both send
        # Bytes received land in one reused buffer; [_start, _end) of it is not yet parsed.
        self._buffer = bytearray(RECEIVE_BYTES)
        self._view = memoryview(self._buffer)
        self._start = self._end = 0
        #: A message too long for the buffer: its body, received straight into it, and how much has come.
        self._large: tuple[np.ndarray, int] | None = None
        #: True while the last receive left the socket empty and this side has sent nothing since (so
        #: no time has passed running a request): a non-blocking read would find nothing new, and skips
        #: its system call. Every request ends in a send, so the read before the next one does look.
        self.drained = False
        #: Small messages held back to leave in one send (see hold); None while sending each at once.
        self._held: list[bytes] | None = None

    def hold(self, on: bool) -> None:
        """While on, small messages (a header alone: most replies) wait to leave together, in one
        system call: a pipelined burst of quick requests then costs one send, and one wake-up of
        Node, instead of one each. Turning it off sends what waits."""
        if on and self._held is not None:
            return  # holding already (only this thread turns it on or off)
        with self.sending:
            if on:
                self._held = []
            else:
                self._flush()
                self._held = None

    def _flush(self) -> None:
        if self._held:
            self.sock.sendall(b"".join(self._held))
            self._held.clear()

    def read(self, block: bool = True) -> tuple[int, list] | None:
        """(kind, frames) of the next message; None when none is complete and `block` is false.

        Raises EOFError once Node has closed its end, LinkError when it broke the framing.
        """
        while True:
            if self._large is not None:
                body, filled = self._large
                if filled == len(body):
                    self._large = None
                    return self._parse(memoryview(body))
                received = self._receive(memoryview(body)[filled:], block)
                if received is None:
                    return None
                self._large = (body, filled + received)
                continue
            have = self._end - self._start
            if have >= 4:
                (length,) = _LENGTH.unpack_from(self._buffer, self._start)
                at = self._start + 4
                if have >= 4 + length:
                    # Its own copy: frames (and arrays over them) outlive the buffer's next use.
                    body = bytearray(self._view[at : at + length])
                    self._start = at + length
                    if self._start == self._end:
                        self._start = self._end = 0
                    return self._parse(memoryview(body))
                if 4 + length > len(self._buffer):
                    # Longer than the buffer: received into a body of its own, left unfilled (np.empty):
                    # zero-filling a bytearray of a 1 GiB message held the GIL over a second, and the
                    # heartbeat thread with it.
                    body = np.empty(length, dtype=np.uint8)
                    body[: have - 4] = self._view[at : self._end]
                    self._start = self._end = 0
                    self._large = (body, have - 4)
                    continue
            if self._start > 0:  # a message's beginning: moved to the front, so the rest fits behind it
                self._buffer[:have] = bytes(self._view[self._start : self._end])
                self._start, self._end = 0, have
            received = self._receive(self._view[self._end :], block)
            if received is None:
                return None
            self._end += received

    def _receive(self, into: memoryview, block: bool) -> int | None:
        """Bytes received into `into` (never 0), or None when `block` is false and none have arrived."""
        if block:
            received = self.sock.recv_into(into)
        elif self.drained:
            return None
        else:
            try:
                received = self.sock.recv_into(into, 0, socket.MSG_DONTWAIT)
            except BlockingIOError:
                self.drained = True
                return None
        if not received:
            raise EOFError
        self.drained = received < len(into)  # a stream socket fills what it can: short means emptied
        return received

    def _parse(self, view: memoryview) -> tuple[int, list]:
        length = len(view)
        if length < 5:
            raise LinkError("a message shorter than its kind and frame count")
        kind, count = view[0], _COUNT.unpack_from(view, 1)[0]
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
        """One message; array frames of INLINE_MAX bytes or more (but strings) are placed in the output region if it has room."""
        with self.sending:
            self._send(frames)

    def _send(self, frames: list) -> None:
        self.drained = False  # a request ran (or was refused): what arrived meanwhile is still to be read
        if len(frames) == 1 and type(frames[0]) is bytes:  # a header alone: most replies
            head = frames[0]
            data = _ONE_INLINE.pack(5 + _FRAME.size + len(head), MESSAGE, 1, INLINE, 0, len(head)) + head
            if self._held is None:
                self.sock.sendall(data)
            else:
                self._held.append(data)
                if len(self._held) >= HOLD_MAX:
                    self._flush()
            return
        self._flush()  # what waits goes first: messages leave in order
        table, inline = [], []
        for i, frame in enumerate(frames):
            data = frame_buffer(frame).cast("B")
            # A string array's frame (codec.array_frame makes it as bytes, and no other) stays inline:
            # Node decodes it into JS strings at once, so a block would only idle until garbage collection.
            shareable = i > 0 and data.nbytes >= INLINE_MAX and type(frame) is not bytes
            offset = self.regions.place(data) if shareable else None
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

    The replies of a burst of quick requests (ones whose op last ran in under QUICK_S, and that asked
    for no progress) leave together once the burst ends, or before a request that is not quick starts,
    or every HOLD_MAX: no reply waits behind a slow request, nor more than HOLD_MAX quick ones.
    """
    link = Link(socket.socket(fileno=fd), Regions(inputs_path, outputs_path))
    executor = Executor(Ops(proxies), link.send, threaded=False)

    def take(message: tuple[int, list]) -> None:
        kind, frames = message
        if kind == RELEASE:
            for offset, size in frames:
                link.regions.allocator.release(offset, size)
            return
        try:
            reply = executor.receive(frames)
        except Rejoin:
            return  # sent only to ZeroMQ workers the engine counted gone; a local link never is
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
            try:
                executor.run_queued(take_arrivals, lambda job: link.hold(executor.quick(job)))
            finally:
                link.hold(False)
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

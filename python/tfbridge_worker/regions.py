"""The local link's shared memory: two files the Node side made, mapped here too.

`inputs` is written by Node and only read here: each request's arrays arrive as read-only NumPy views
over it, valid until that request's reply is sent (Node reuses the bytes after that). `outputs` is
written here, once per reply array, into blocks Node holds until it releases them; a full region
never blocks the worker: the array then travels inline on the socket instead.
"""

from __future__ import annotations

import mmap
import os
import threading

from .protocol import LOCAL_LINK

#: Every block starts on this many bytes, so any dtype's TypedArray can view it in place (as in src/link/allocator.ts).
ALIGN: int = LOCAL_LINK["align"]


def padded(nbytes: int) -> int:
    return max(ALIGN, -(-nbytes // ALIGN) * ALIGN)


class Allocator:
    """First-fit blocks of a fixed-size region, neighbours merged on release; safe across threads."""

    def __init__(self, size: int):
        self.free: list[list[int]] = [[0, size]] if size > 0 else []  # [offset, length], sorted, never adjacent
        self.lock = threading.Lock()

    def alloc(self, nbytes: int) -> int | None:
        need = padded(nbytes)
        with self.lock:
            for i, block in enumerate(self.free):
                if block[1] < need:
                    continue
                offset = block[0]
                if block[1] == need:
                    del self.free[i]
                else:
                    block[0] += need
                    block[1] -= need
                return offset
        return None

    def release(self, offset: int, nbytes: int) -> None:
        """Returns a block; a release that overlaps free space (a peer's bug, or a forgery) is ignored."""
        length = padded(nbytes)
        with self.lock:
            i = 0
            while i < len(self.free) and self.free[i][0] < offset:
                i += 1
            before = self.free[i - 1] if i > 0 else None
            after = self.free[i] if i < len(self.free) else None
            if offset < 0 or (before and before[0] + before[1] > offset) or (after and offset + length > after[0]):
                return
            if before and before[0] + before[1] == offset:
                before[1] += length
                if after and before[0] + before[1] == after[0]:
                    before[1] += after[1]
                    del self.free[i]
            elif after and offset + length == after[0]:
                after[0] = offset
                after[1] += length
            else:
                self.free.insert(i, [offset, length])


def _map(path: str) -> mmap.mmap:
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


class Regions:
    def __init__(self, inputs_path: str, outputs_path: str):
        self._inputs = _map(inputs_path)
        self._outputs = _map(outputs_path)
        self.inputs = memoryview(self._inputs).toreadonly()
        self.outputs = memoryview(self._outputs)
        self.allocator = Allocator(len(self._outputs))

    def input(self, offset: int, nbytes: int) -> memoryview:
        if offset < 0 or nbytes < 0 or offset + nbytes > len(self.inputs):
            raise ValueError(f"block [{offset}, {offset + nbytes}) is outside the input region")
        return self.inputs[offset : offset + nbytes]

    def place(self, frame: memoryview) -> int | None:
        """Copies `frame` into a new block of the output region; its offset, or None when no block is free."""
        offset = self.allocator.alloc(frame.nbytes)
        if offset is not None:
            self.outputs[offset : offset + frame.nbytes] = frame.cast("B")
        return offset

"""The ``string`` dtype's frame (docs/wire.md#strings): ``n + 1`` little-endian uint32 byte offsets into
the UTF-8 bytes that follow them, element ``i`` being bytes ``[offsets[i], offsets[i + 1])``.

NumPy has no variable-size string dtype that TensorFlow takes as a ``tf.string`` feed, so a received
string array is an object array of Python ``str`` (what ``np.array(["a"], dtype=object)`` makes).
"""

from __future__ import annotations

import math

import numpy as np

from .errors import BadRequest

_OFFSETS = np.dtype("<u4")
#: uint32 offsets: a frame is within the message cap (1 GiB by default), and JS reads them as plain numbers.
MAX_TEXT_BYTES = 2**32 - 1


def _utf8(value, index: int, element: int) -> bytes:
    """One element as UTF-8: a str encoded, bytes (TensorFlow's form of tf.string) checked."""
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"arrays[{index}]: the string at index {element} holds a lone surrogate, which UTF-8 cannot carry") from None
    if isinstance(value, bytes):
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"arrays[{index}]: the bytes at index {element} are not UTF-8; the wire's string dtype carries text only") from None
        return value
    raise TypeError(f"arrays[{index}]: a string array holds a {type(value).__name__} at index {element}; only str and bytes can be sent")


def encode_strings(array: np.ndarray, index: int) -> bytes:
    """A text, bytes or object array (C order) as one string frame; ``index`` names it in errors."""
    parts = [_utf8(v, index, i) for i, v in enumerate(array.ravel(order="C").tolist())]
    offsets = np.zeros(len(parts) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, parts), np.int64, len(parts)), out=offsets[1:])
    if offsets[-1] > MAX_TEXT_BYTES:
        raise ValueError(f"arrays[{index}]: {offsets[-1]} bytes of text are past the string layout's uint32 offsets")
    return offsets.astype(_OFFSETS).tobytes() + b"".join(parts)


def decode_strings(frame: memoryview, shape: list[int], index: int) -> np.ndarray:
    """A string frame as an object array of str of ``shape``; BadRequest names a malformed offset or element."""
    count = math.prod(shape)
    data = frame.cast("B") if frame.format != "B" else frame
    head = (count + 1) * _OFFSETS.itemsize
    if data.nbytes < head:
        raise BadRequest(f"arrays[{index}]: string{shape} needs {head} bytes of offsets but its frame has {data.nbytes}")
    offsets = np.frombuffer(data, _OFFSETS, count + 1).astype(np.int64)
    text = bytes(data[head:])
    if offsets[0] != 0 or offsets[-1] != len(text) or (count and np.any(np.diff(offsets) < 0)):
        raise BadRequest(
            f"arrays[{index}]: string offsets must rise from 0 to the {len(text)} bytes of text, got {offsets[0]} … {offsets[-1]}"
        )
    bounds = offsets.tolist()
    out = np.empty(count, dtype=object)
    for i in range(count):
        try:
            out[i] = text[bounds[i] : bounds[i + 1]].decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(f"arrays[{index}]: the string at index {i} is not valid UTF-8") from None
    return out.reshape(shape)

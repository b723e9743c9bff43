"""Wire format v1 (docs/wire.md): a JSON header frame, then one raw little-endian C-order frame per array."""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

import numpy as np

from .errors import BadRequest
from .protocol import VERSION, WIRE_TO_NUMPY, wire_name


def normalize(array: Any) -> np.ndarray:
    """Anything ``np.asarray`` accepts, as the little-endian C-contiguous array the wire carries.

    Copies only when the input is big-endian or not C-contiguous.
    """
    array = np.asarray(array)
    name = wire_name(array.dtype)
    return array.astype(WIRE_TO_NUMPY[name], order="C", copy=False)


def array_frame(array: np.ndarray) -> memoryview:
    """The raw bytes of a normalized array, without a copy."""
    return memoryview(array.reshape(-1).view(np.uint8))


def encode(header: dict, arrays: Sequence[Any] = (), names: Sequence[str] | None = None) -> list:
    """Header and arrays as the frames of one message; ``header['arrays']`` is filled in here."""
    normalized = [normalize(a) for a in arrays]
    descriptors = []
    for i, a in enumerate(normalized):
        d = {"dtype": wire_name(a.dtype), "shape": list(a.shape)}
        if names is not None:
            d["name"] = names[i]
        descriptors.append(d)
    header = {"v": VERSION, **header, "arrays": descriptors}
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return [head, *(array_frame(a) for a in normalized)]


def _buffer(frame: Any) -> memoryview:
    # pyzmq hands zmq.Frame objects when received with copy=False; tests hand bytes.
    return memoryview(frame.buffer if hasattr(frame, "buffer") else frame)


def decode_header(frame: Any) -> dict:
    try:
        header = json.loads(bytes(_buffer(frame)).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise BadRequest(f"header frame is not UTF-8 JSON (or nests too deep): {e}") from None
    if not isinstance(header, dict):
        raise BadRequest("header frame must be a JSON object")
    if header.get("v") != VERSION:
        raise BadRequest(f"unsupported wire version {header.get('v')!r}; this worker speaks {VERSION}")
    return header


def decode_array(descriptor: Any, frame: Any, index: int) -> np.ndarray:
    """One array frame as a read-only ndarray over the received bytes (no copy)."""
    if not isinstance(descriptor, dict):
        raise BadRequest(f"arrays[{index}] must be an object with dtype and shape")
    name = descriptor.get("dtype")
    if name not in WIRE_TO_NUMPY:
        raise BadRequest(f"arrays[{index}].dtype {name!r} is not one of {', '.join(WIRE_TO_NUMPY)}")
    shape = descriptor.get("shape")
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise BadRequest(f"arrays[{index}].shape must be a list of non-negative integers, got {shape!r}")
    dtype = WIRE_TO_NUMPY[name]
    buf = _buffer(frame)
    expected = math.prod(shape) * dtype.itemsize
    if buf.nbytes != expected:
        raise BadRequest(
            f"arrays[{index}]: {name}{shape} needs {expected} bytes but its frame has {buf.nbytes}"
        )
    array = np.frombuffer(buf, dtype=dtype).reshape(shape)
    if name == "bool" and array.size and array.view(np.uint8).max() > 1:
        raise BadRequest(f"arrays[{index}]: bool frame holds bytes other than 0 and 1")
    return array


def decode(frames: Sequence[Any]) -> tuple[dict, list[np.ndarray]]:
    """A message's frames as (header, arrays); BadRequest names what is wrong."""
    if not frames:
        raise BadRequest("empty message")
    header = decode_header(frames[0])
    descriptors = header.get("arrays", [])
    if not isinstance(descriptors, list):
        raise BadRequest("header.arrays must be a list")
    if len(descriptors) != len(frames) - 1:
        raise BadRequest(f"header describes {len(descriptors)} arrays but {len(frames) - 1} frames follow")
    return header, [decode_array(d, f, i) for i, (d, f) in enumerate(zip(descriptors, frames[1:]))]

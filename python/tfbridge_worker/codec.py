"""Wire format v1 (docs/wire.md): a JSON header frame, then one raw little-endian C-order frame per array."""

from __future__ import annotations

import json
import json.encoder
import json.scanner
import math
from typing import Any, Sequence

import numpy as np

from .errors import BadRequest
from .protocol import CONTROL_TO_WORKER, MAX_ID, STRING, VERSION, WIRE_TO_NUMPY, wire_name
from .strings import decode_strings, encode_strings


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
if json.encoder.c_make_encoder is not None:
    # json.dumps makes an encoder per call; one made once costs a third of a tiny header's encoding.
    # No circular-reference markers (a reusable encoder cannot hold them): a header that contains
    # itself fails with RecursionError instead of ValueError, as an error reply all the same.
    _encode_chunks = json.encoder.c_make_encoder(
        None, _ENCODER.default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, False
    )

    def _dumps(value: Any) -> bytes:
        return "".join(_encode_chunks(value, 0)).encode("utf-8")

else:  # pragma: no cover - CPython always has the C accelerator

    def _dumps(value: Any) -> bytes:
        return _ENCODER.encode(value).encode("utf-8")


_scan_once = json.scanner.make_scanner(json.JSONDecoder())


def _loads(text: str) -> Any:
    """``json.loads(text)``, without its regular-expression passes for the usual text with no outer whitespace."""
    try:
        value, end = _scan_once(text, 0)
    except StopIteration:
        return json.loads(text)  # leading whitespace, or not JSON: json.loads accepts or raises as ever
    if end != len(text):
        return json.loads(text)  # trailing whitespace is JSON; anything else is json.loads's error
    return value


def normalize(array: Any) -> np.ndarray:
    """Anything ``np.asarray`` accepts, as the little-endian C-contiguous array the wire carries.

    Copies only when the input is big-endian or not C-contiguous. Text, bytes and object arrays are
    left as they are: their frame is made element by element (``array_frame``).
    """
    array = np.asarray(array)
    name = wire_name(array.dtype)
    if name == STRING:
        return array
    return array.astype(WIRE_TO_NUMPY[name], order="C", copy=False)


def array_frame(array: np.ndarray, index: int = 0) -> memoryview | bytes:
    """The raw bytes of a normalized array, without a copy; a string array's frame as new bytes.

    A string frame is ``bytes`` and nothing else is: the local link keeps ``bytes`` frames inline.
    """
    if array.dtype.kind in "USO":
        return encode_strings(array, index)
    return memoryview(array.reshape(-1).view(np.uint8))


def encode(header: dict, arrays: Sequence[Any] = (), names: Sequence[str] | None = None) -> list:
    """Header and arrays as the frames of one message; ``header['arrays']`` is filled in here."""
    if type(arrays) in (list, tuple) and not arrays:
        return [_dumps({"v": VERSION, **header, "arrays": []})]
    normalized = [normalize(a) for a in arrays]
    descriptors = []
    for i, a in enumerate(normalized):
        d = {"dtype": wire_name(a.dtype), "shape": list(a.shape)}
        if names is not None:
            d["name"] = names[i]
        descriptors.append(d)
    return [_dumps({"v": VERSION, **header, "arrays": descriptors}), *(array_frame(a, i) for i, a in enumerate(normalized))]


def frame_buffer(frame: Any) -> memoryview:
    """A frame's bytes, whatever carried it: zmq.Frame, bytes, or a memoryview over the local link's buffers."""
    if type(frame) is memoryview:  # the local link's frames
        return frame
    # pyzmq hands zmq.Frame objects when received with copy=False; tests hand bytes.
    return memoryview(frame.buffer if hasattr(frame, "buffer") else frame)


def message_bytes(frames: Sequence[Any]) -> int:
    """A message's size as the cap counts it: every frame, header included."""
    total = 0
    for f in frames:
        total += len(f) if type(f) is bytes else frame_buffer(f).nbytes  # most headers are bytes
    return total


def decode_header(frame: Any) -> dict:
    """The header frame as a JSON object of wire version 1; nothing in it is checked further."""
    try:
        header = _loads(str(frame_buffer(frame), "utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        # ValueError covers malformed JSON and integers past Python's digit limit (e.g. a 5,000-digit id).
        raise BadRequest(f"header frame is not UTF-8 JSON (or nests too deep, or holds a huge number): {e}") from None
    if not isinstance(header, dict):
        raise BadRequest("header frame must be a JSON object")
    if type(header.get("v")) is not int or header["v"] != VERSION:
        raise BadRequest(f"unsupported wire version {header.get('v')!r}; this worker speaks {VERSION}")
    return header


def _is_count(value: Any) -> bool:
    """An integer a JavaScript number holds exactly, from 0 (bools and floats are not ids)."""
    return type(value) is int and 0 <= value <= MAX_ID


def read_request(frame: Any) -> dict:
    """A request's or control message's header, every field checked by type and range before use.

    Raises BadRequest naming the field; it carries the request id whenever the id itself is valid.
    """
    header = decode_header(frame)
    request_id = header.get("id")
    if request_id is not None and not _is_count(request_id):
        raise BadRequest(f"id must be null or an integer from 0 to {MAX_ID}")

    def refuse(message: str) -> BadRequest:
        return BadRequest(message, request_id)

    ctl = header.get("ctl")
    if ctl is not None:
        if ctl not in CONTROL_TO_WORKER:
            raise refuse(f"ctl {ctl!r} is not one of {', '.join(sorted(CONTROL_TO_WORKER))}")
        return header
    if not isinstance(header.get("op"), str):
        raise refuse("op must be a string")
    if not isinstance(header.setdefault("args", {}), dict):
        raise refuse("args must be an object")
    if not isinstance(header.setdefault("arrays", []), list):
        raise refuse("arrays must be a list")
    deadline = header.get("deadlineMs")
    if deadline is not None and not (type(deadline) in (int, float) and 0 <= deadline <= MAX_ID):
        # NaN fails the comparison; 1e400 parses as inf and fails the bound.
        raise refuse(f"deadlineMs must be a number of milliseconds from 0 to {MAX_ID}")
    return header


def decode_array(descriptor: Any, frame: Any, index: int) -> np.ndarray:
    """One array frame as a read-only ndarray over the received bytes (no copy); a string array as an object array of str."""
    if not isinstance(descriptor, dict):
        raise BadRequest(f"arrays[{index}] must be an object with dtype and shape")
    name = descriptor.get("dtype")
    if name not in WIRE_TO_NUMPY:
        raise BadRequest(f"arrays[{index}].dtype {name!r} is not one of {', '.join(WIRE_TO_NUMPY)}")
    shape = descriptor.get("shape")
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise BadRequest(f"arrays[{index}].shape must be a list of non-negative integers, got {shape!r}")
    buf = frame_buffer(frame)
    if name == STRING:
        return decode_strings(buf, shape, index)
    dtype = WIRE_TO_NUMPY[name]
    expected = math.prod(shape) * dtype.itemsize
    if buf.nbytes != expected:
        raise BadRequest(
            f"arrays[{index}]: {name}{shape} needs {expected} bytes but its frame has {buf.nbytes}"
        )
    array = np.frombuffer(buf, dtype=dtype).reshape(shape)
    if name == "bool" and array.size and array.view(np.uint8).max() > 1:
        raise BadRequest(f"arrays[{index}]: bool frame holds bytes other than 0 and 1")
    return array


def decode_arrays(descriptors: Any, frames: Sequence[Any]) -> list[np.ndarray]:
    """The array frames that follow a header, as its `arrays` descriptors say."""
    if not isinstance(descriptors, list):
        raise BadRequest("header.arrays must be a list")
    if len(descriptors) != len(frames):
        raise BadRequest(f"header describes {len(descriptors)} arrays but {len(frames)} frames follow")
    return [decode_array(d, f, i) for i, (d, f) in enumerate(zip(descriptors, frames))]


def decode(frames: Sequence[Any]) -> tuple[dict, list[np.ndarray]]:
    """A message's frames as (header, arrays); BadRequest names what is wrong."""
    if not frames:
        raise BadRequest("empty message")
    header = decode_header(frames[0])
    return header, decode_arrays(header.get("arrays", []), frames[1:])

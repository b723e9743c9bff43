"""Wire format v2 (docs/wire.md): a binary header frame, then one raw little-endian C-order frame per array."""

from __future__ import annotations

import json
import json.encoder
import json.scanner
import math
import struct
from typing import Any, Sequence

import numpy as np

from .errors import BadRequest
from .protocol import (
    CONTROL_TO_WORKER,
    CONTROLS,
    DESCRIPTOR_FORMAT,
    DTYPE_CODES,
    FLAGS,
    HEADER_FORMAT,
    KINDS,
    MAX_ID,
    OP_LIST,
    STRING,
    VERSION,
    WIRE_TO_NUMPY,
    wire_name,
)
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


_FIXED = struct.Struct(HEADER_FORMAT)
_DESCRIPTOR = struct.Struct(DESCRIPTOR_FORMAT)
_DIM = "<{}Q"
_REQUEST, _REPLY, _ERROR, _CONTROL = (KINDS.index(k) for k in ("request", "reply", "error", "control"))
_HAS_ID, _HAS_DEADLINE, _WANTS_PROGRESS = FLAGS["id"], FLAGS["deadline"], FLAGS["progress"]
_OP_CODES = {op: i for i, op in enumerate(OP_LIST)}
_CONTROL_CODES = {c: i for i, c in enumerate(CONTROLS)}
_DTYPE_CODES = {name: i for i, name in enumerate(DTYPE_CODES)}
#: The header's own keys; a control message's other keys travel in its JSON.
_FIXED_KEYS = frozenset(("v", "id", "op", "ctl", "ok", "args", "result", "error", "deadlineMs", "progress", "arrays"))
#: `{`, the first byte of every v1 header (a JSON object).
_V1_FIRST_BYTE = 0x7B


def _fields(header: dict) -> tuple[int, int, Any]:
    """(kind, code, the JSON part or None) of a header given as a dict."""
    ctl = header.get("ctl")
    if ctl is not None:
        rest = {k: v for k, v in header.items() if k not in _FIXED_KEYS}
        return _CONTROL, _CONTROL_CODES[ctl], rest or None
    op = header.get("op")
    if op is not None:
        if op not in _OP_CODES:
            raise ValueError(f"unknown op {op!r}: wire format v{VERSION} carries the ops of protocol/wire.json only")
        return _REQUEST, _OP_CODES[op], header.get("args") or None
    if header.get("ok") is False:
        return _ERROR, 0, header.get("error")
    return _REPLY, 0, header.get("result") or None


def encode_header(header: dict, descriptors: Sequence[tuple[str, tuple, str | None]] = ()) -> bytes:
    """The header frame: fixed fields, one descriptor per (dtype name, shape, name), then JSON where needed."""
    kind, code, json_part = _fields(header)
    request_id = header.get("id")
    deadline = header.get("deadlineMs") if kind == _REQUEST else None
    flags = (_HAS_ID if request_id is not None else 0) | (_HAS_DEADLINE if deadline is not None else 0)
    if header.get("progress") is True:
        flags |= _WANTS_PROGRESS
    text = b"" if json_part is None else _dumps(json_part)
    parts = [_FIXED.pack(VERSION, kind, code, flags, len(descriptors), request_id or 0, deadline or 0, len(text))]
    for dtype, shape, name in descriptors:
        encoded = name.encode("utf-8") if name else b""
        parts.append(_DESCRIPTOR.pack(_DTYPE_CODES[dtype], len(shape), len(encoded)))
        parts.append(struct.pack(_DIM.format(len(shape)), *shape))
        parts.append(encoded)
    parts.append(text)
    return b"".join(parts)


def encode_reply(request_id: int | None, result: dict, arrays: Sequence[Any] = (), names: Sequence[str] | None = None) -> list:
    """A successful reply's frames, as encode() writes them; a reply with no result and no arrays (the
    commonest message of a pipelined burst) is its fixed fields alone, packed without a header dict."""
    if not result and type(arrays) in (list, tuple) and not arrays:
        return [_FIXED.pack(VERSION, _REPLY, 0, 0 if request_id is None else _HAS_ID, 0, request_id or 0, 0, 0)]
    return encode({"id": request_id, "ok": True, "result": result}, arrays, names)


def encode(header: dict, arrays: Sequence[Any] = (), names: Sequence[str] | None = None) -> list:
    """Header and arrays as the frames of one message (docs/wire.md#header)."""
    if type(arrays) in (list, tuple) and not arrays:
        return [encode_header(header)]
    normalized = [normalize(a) for a in arrays]
    descriptors = [(wire_name(a.dtype), a.shape, names[i] if names is not None else None) for i, a in enumerate(normalized)]
    return [encode_header(header, descriptors), *(array_frame(a, i) for i, a in enumerate(normalized))]


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


def _check_version(buf: memoryview) -> None:
    if not buf.nbytes:
        raise BadRequest("empty header frame")
    version = buf[0]
    if version == VERSION:
        return
    if version == _V1_FIRST_BYTE:
        raise BadRequest(f"wire format v1 (a JSON header) arrived: the peer is a tfbridge of an older release; this worker speaks v{VERSION}")
    raise BadRequest(f"wire format v{version} arrived; this worker speaks v{VERSION}")


def decode_header(frame: Any) -> dict:
    """The header frame as a dict of wire format v2's fields; BadRequest names what is malformed.

    Only the framing is checked here (version, lengths, codes); read_request checks a request's fields.
    The BadRequest carries the id once the fixed fields are read and it is in range.
    """
    buf = frame_buffer(frame).cast("B")
    _check_version(buf)
    if buf.nbytes < _FIXED.size:
        raise BadRequest(f"a header of {buf.nbytes} bytes is shorter than its {_FIXED.size} fixed bytes")
    _, kind, code, flags, count, raw_id, deadline, json_bytes = _FIXED.unpack_from(buf)
    if flags & _HAS_ID and raw_id > MAX_ID:
        raise BadRequest(f"id must be an integer from 0 to {MAX_ID}")
    request_id = raw_id if flags & _HAS_ID else None
    descriptors, at = [], _FIXED.size
    for i in range(count):
        if at + _DESCRIPTOR.size > buf.nbytes:
            raise BadRequest(f"arrays[{i}]: the header ends inside its descriptor", request_id)
        dtype_code, rank, name_bytes = _DESCRIPTOR.unpack_from(buf, at)
        at += _DESCRIPTOR.size
        if dtype_code >= len(DTYPE_CODES):
            raise BadRequest(f"arrays[{i}].dtype code {dtype_code} is not in protocol/dtypes.json", request_id)
        if at + 8 * rank + name_bytes > buf.nbytes:
            raise BadRequest(f"arrays[{i}]: the header ends inside its shape or name", request_id)
        shape = list(struct.unpack_from(_DIM.format(rank), buf, at))
        at += 8 * rank
        descriptor = {"dtype": DTYPE_CODES[dtype_code], "shape": shape}
        if name_bytes:
            try:
                descriptor["name"] = str(buf[at : at + name_bytes], "utf-8")
            except UnicodeDecodeError:
                raise BadRequest(f"arrays[{i}].name is not UTF-8", request_id) from None
            at += name_bytes
        descriptors.append(descriptor)
    if at + json_bytes != buf.nbytes:
        raise BadRequest(f"a header of {buf.nbytes} bytes: its fields and {json_bytes} bytes of JSON take {at + json_bytes}", request_id)
    json_part = None
    if json_bytes:
        try:
            json_part = _loads(str(buf[at:], "utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            # ValueError covers malformed JSON and integers past Python's digit limit (e.g. a 5,000-digit number).
            raise BadRequest(f"header JSON is not UTF-8 JSON (or nests too deep, or holds a huge number): {e}", request_id) from None
    header: dict = {"v": VERSION, "id": request_id, "arrays": descriptors}
    if kind == _REQUEST:
        if code >= len(OP_LIST):
            raise BadRequest(f"op code {code} is not one of protocol/wire.json's {len(OP_LIST)} ops", request_id)
        header["op"] = OP_LIST[code]
        header["args"] = {} if json_part is None else json_part
        if flags & _HAS_DEADLINE:
            header["deadlineMs"] = deadline
        if flags & _WANTS_PROGRESS:
            header["progress"] = True
    elif kind == _CONTROL:
        if code >= len(CONTROLS):
            raise BadRequest(f"ctl code {code} is not one of protocol/wire.json's {len(CONTROLS)} control messages", request_id)
        if isinstance(json_part, dict):
            header.update((k, v) for k, v in json_part.items() if k not in _FIXED_KEYS)
        header["ctl"] = CONTROLS[code]
    elif kind == _REPLY:
        header["ok"], header["result"] = True, {} if json_part is None else json_part
    elif kind == _ERROR:
        header["ok"], header["error"] = False, json_part
    else:
        raise BadRequest(f"message kind {kind} is not one of {', '.join(KINDS)}", request_id)
    return header


def read_request(frame: Any) -> dict:
    """A request's or control message's header, every field checked by type and range before use.

    Raises BadRequest naming the field; it carries the request id whenever the id itself is valid.
    """
    header = decode_header(frame)
    ctl = header.get("ctl")
    if ctl is not None:
        if ctl not in CONTROL_TO_WORKER:
            raise BadRequest(f"ctl {ctl!r} is not one of {', '.join(sorted(CONTROL_TO_WORKER))}", header["id"])
        return header
    if "op" not in header:
        raise BadRequest("a worker takes requests and control messages only, not replies", header["id"])
    if type(header["args"]) is not dict:
        raise BadRequest("args must be a JSON object", header["id"])
    deadline = header.get("deadlineMs")
    if deadline is not None and deadline > MAX_ID:
        raise BadRequest(f"deadlineMs must be a number of milliseconds from 0 to {MAX_ID}", header["id"])
    return header


def decode_array(descriptor: dict, frame: Any, index: int) -> np.ndarray:
    """One array frame as a read-only ndarray over the received bytes (no copy); a string array as an object array of str.

    `descriptor` is one decode_header read: its dtype is a wire dtype and its shape non-negative integers.
    """
    name, shape = descriptor["dtype"], descriptor["shape"]
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


def decode_arrays(descriptors: list, frames: Sequence[Any]) -> list[np.ndarray]:
    """The array frames that follow a header, as its `arrays` descriptors say."""
    if len(descriptors) != len(frames):
        raise BadRequest(f"header describes {len(descriptors)} arrays but {len(frames)} frames follow")
    return [decode_array(d, f, i) for i, (d, f) in enumerate(zip(descriptors, frames))]


def decode(frames: Sequence[Any]) -> tuple[dict, list[np.ndarray]]:
    """A message's frames as (header, arrays); BadRequest names what is wrong."""
    if not frames:
        raise BadRequest("empty message")
    header = decode_header(frames[0])
    return header, decode_arrays(header.get("arrays", []), frames[1:])

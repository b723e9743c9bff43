"""Wire format v2 headers laid out by hand from protocol/wire.json, bypassing the codec's checks, so
tests can hand a worker what the codec would never write."""

import struct

from tfbridge_worker.protocol import DESCRIPTOR_FORMAT, DTYPE_CODES, HEADER_FORMAT, OP_LIST, VERSION


def raw_header(arrays=(), *, version=VERSION, kind=0, code=OP_LIST.index("echo"), flags=1, request_id=1, deadline=0, json_part=b"", count=None, json_bytes=None):
    """`arrays`: (dtype name or raw code, shape) pairs; `count` and `json_bytes` may disagree with them."""
    parts = [struct.pack(HEADER_FORMAT, version, kind, code, flags, len(arrays) if count is None else count, request_id, deadline, len(json_part) if json_bytes is None else json_bytes)]
    for dtype, shape in arrays:
        parts.append(struct.pack(DESCRIPTOR_FORMAT, DTYPE_CODES.index(dtype) if isinstance(dtype, str) else dtype, len(shape), 0))
        parts.append(struct.pack(f"<{len(shape)}Q", *shape))
    return b"".join(parts) + json_part

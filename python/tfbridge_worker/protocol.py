"""Loads the files in protocol/ that the TypeScript half reads too: one source of truth for both.

This is the one module of the worker that reads protocol/; everything else imports its constants.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

PROTOCOL_DIR = Path(__file__).resolve().parents[2] / "protocol"


def _load(name: str) -> dict:
    with open(PROTOCOL_DIR / name, encoding="utf-8") as f:
        return json.load(f)


WIRE = _load("wire.json")
VERSION: int = WIRE["version"]
OPS: frozenset[str] = frozenset(WIRE["ops"])
ERROR_KINDS: frozenset[str] = frozenset(WIRE["errorKinds"])
#: Request ids and deadlines are integers a JavaScript number holds exactly: 0 … 2^53 − 1.
MAX_ID: int = WIRE["maxId"]
CONTROL = WIRE["control"]
#: Control messages a worker takes (headers with `ctl` instead of `op`), and the ones it sends.
CONTROL_TO_WORKER: frozenset[str] = frozenset(CONTROL["poolToWorker"])
CONTROL_FROM_WORKER: frozenset[str] = frozenset(CONTROL["workerToPool"])
HEARTBEAT_S: float = CONTROL["heartbeatMs"] / 1000
LIVENESS: int = CONTROL["liveness"]
#: What the heartbeat DEALER adds to the worker's routing id (connected.py).
HEARTBEAT_ROUTING_ID_SUFFIX: bytes = bytes.fromhex(CONTROL["heartbeatRoutingIdSuffix"])
_STRUCT_CODES = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q"}


def struct_format(fields: list) -> str:
    """A little-endian struct format from protocol/'s [name, "u8" | "u16" | "u32" | "u64"] field lists."""
    return "<" + "".join(_STRUCT_CODES[code] for _, code in fields)


HEADER = WIRE["header"]
#: The header's fixed fields as one struct format (docs/wire.md#header), and a descriptor's.
HEADER_FORMAT: str = struct_format(HEADER["fixed"])
DESCRIPTOR_FORMAT: str = struct_format(HEADER["descriptor"])
#: Op and control codes: an op's index in `ops`, a control message's in `header.controls`.
OP_LIST: tuple[str, ...] = tuple(WIRE["ops"])
CONTROLS: tuple[str, ...] = tuple(HEADER["controls"])
KINDS: tuple[str, ...] = tuple(HEADER["kinds"])
FLAGS: dict[str, int] = HEADER["flags"]
#: The local link's framing and the constants both halves share (docs/wire.md#the-local-link).
LOCAL_LINK = _load("local-link.json")
LAYERS = _load("layers.json")
MODELS = _load("models.json")
#: Each op's arguments (JSON types, required or not), arrays and result fields: op_args.py checks requests against it.
OP_SPECS: dict[str, dict] = _load("ops.json")["ops"]
#: Bounds on model configs and archives (models/bounds.py, models/archives.py; docs/security.md).
BOUNDS = _load("bounds.json")
RUNTIME = _load("runtime.json")


@lru_cache(maxsize=None)
def max_message_bytes() -> int:
    """The largest message, all frames counted, a worker takes or sends; a pool may set it lower.

    Read at first use, not at import: a worker forked from the fork server (fork_server.py) imported
    this module under the server's environment, and its own comes after; the server never asks. Kept
    from then on: every request and reply is checked against it."""
    return int(os.environ.get("TFBRIDGE_MAX_MESSAGE_BYTES", CONTROL["maxMessageBytes"]))

_DTYPE_ROWS = _load("dtypes.json")["dtypes"]
#: Every wire dtype name in the table's order: a dtype's index is its code in a header.
DTYPE_CODES: tuple[str, ...] = tuple(row["name"] for row in _DTYPE_ROWS)
#: wire dtype name -> little-endian NumPy dtype (string: object, an array of Python str)
WIRE_TO_NUMPY: dict[str, np.dtype] = {row["name"]: np.dtype(row["numpy"]) for row in _DTYPE_ROWS}
#: The one wire dtype of variable size, and the frame layout of it that codec.py implements (docs/wire.md#strings).
STRING = "string"
STRING_LAYOUT = "uint32-offsets-utf8"
_layouts = {row["name"]: row["layout"] for row in _DTYPE_ROWS if "layout" in row}
if _layouts != {STRING: STRING_LAYOUT}:
    raise RuntimeError(f"protocol/dtypes.json: variable-size dtypes {_layouts}; this worker knows only {STRING} as {STRING_LAYOUT}")


@lru_cache(maxsize=None)
def wire_name(dtype: np.dtype) -> str:
    """The wire name of a NumPy dtype of either byte order; KeyError if the table lacks it.

    Text (``<U``), bytes (``S``, TensorFlow's own form of tf.string) and object arrays are all
    ``string``: each element is checked to be str, or bytes holding UTF-8, when it is encoded.
    """
    if dtype.kind in "USO":
        return STRING
    little = dtype.newbyteorder("<") if dtype.byteorder == ">" else dtype
    for name, candidate in WIRE_TO_NUMPY.items():
        if candidate == little:
            return name
    raise KeyError(f"dtype {dtype} is not in the wire dtype table ({', '.join(WIRE_TO_NUMPY)})")


def can_feed(dtype: np.dtype, name: str) -> bool:
    """Whether an array of ``dtype`` feeds a tensor whose dtype Keras or TensorFlow names ``name``.

    Both name text ``string``, which NumPy does not know: any text array (``<U``, ``S``, or the object
    array of str the wire decodes to) feeds it.
    """
    return dtype.kind in "USO" if name == STRING else dtype == np.dtype(name)

"""Loads the files in protocol/ that the TypeScript half reads too: one source of truth for both."""

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
LSTM_SPEC = _load("lstm-spec.json")
LAYERS = _load("layers.json")
#: The largest message a worker accepts (libzmq drops a peer that sends more); a pool may set it lower.
MAX_MESSAGE_BYTES: int = int(os.environ.get("TFBRIDGE_MAX_MESSAGE_BYTES", WIRE["control"]["maxMessageBytes"]))

_DTYPE_ROWS = _load("dtypes.json")["dtypes"]
#: wire dtype name -> little-endian NumPy dtype
WIRE_TO_NUMPY: dict[str, np.dtype] = {row["name"]: np.dtype(row["numpy"]) for row in _DTYPE_ROWS}


@lru_cache(maxsize=None)
def wire_name(dtype: np.dtype) -> str:
    """The wire name of a NumPy dtype of either byte order; KeyError if the table lacks it."""
    little = dtype.newbyteorder("<") if dtype.byteorder == ">" else dtype
    for name, candidate in WIRE_TO_NUMPY.items():
        if candidate == little:
            return name
    raise KeyError(f"dtype {dtype} is not in the wire dtype table ({', '.join(WIRE_TO_NUMPY)})")

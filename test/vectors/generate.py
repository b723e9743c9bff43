"""Writes the shared wire test vectors: each case's header and frames as files, header-only cases, and manifest.json.

Both test suites read them: pytest (python/tests/test_vectors.py) checks that this script reproduces
the committed files byte for byte and that the Python codec decodes them; vitest (test/wire/vectors.test.ts)
checks that the TypeScript codec decodes them to the expected values and encodes them to the same bytes.

    .venv/bin/python test/vectors/generate.py            # rewrite the files
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "python"))

from tfbridge_worker.codec import decode_header, encode  # noqa: E402
from tfbridge_worker.protocol import WIRE_TO_NUMPY  # noqa: E402


def expected_values(a: np.ndarray) -> list:
    """Flat C-order values as JSON can hold them exactly: 64-bit integers as strings, float16 as bits, text as text."""
    flat = np.ascontiguousarray(a).reshape(-1)
    if a.dtype.kind in "USO":
        return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in flat]
    if a.dtype.kind in "iu" and a.dtype.itemsize == 8:
        return [str(int(v)) for v in flat]
    if a.dtype.kind == "f" and a.dtype.itemsize == 2:
        return [int(v) for v in flat.view(np.uint16)]
    if a.dtype.kind == "b":
        return [int(v) for v in flat]
    return [v.item() for v in flat]


def array_of(expected: dict) -> np.ndarray:
    """An array from a manifest entry of a fixed-size dtype, as expected_values wrote its values."""
    dtype = WIRE_TO_NUMPY[expected["dtype"]]
    values = [int(v) for v in expected["values"]] if dtype.kind in "iub" else expected["values"]
    return np.array(values, dtype=dtype).reshape(expected["shape"])


def all_dtypes() -> list[np.ndarray]:
    out = []
    for name, dtype in WIRE_TO_NUMPY.items():
        if name == "bool":
            out.append(np.array([[True, False, True], [False, False, True]]))
        elif name == "string":
            out.append(np.array([["a", "", "bc"], ["d", "ef", "g"]]))
        elif dtype.kind == "u":
            out.append(np.arange(6, dtype=dtype).reshape(2, 3) * 7)
        else:
            out.append((np.arange(6, dtype=dtype).reshape(2, 3) - 3) * (dtype.type(0.5) if dtype.kind == "f" else 1))
    return out


# name -> (what it covers, the arrays as Python holds them before sending, misalign the frames when reading)
CASES: dict[str, tuple[str, list[np.ndarray], bool]] = {
    "scalar": ("a 0-d float64 scalar", [np.array(3.5)], False),
    "empty": ("an empty float32 array, a 0 in its shape", [np.zeros((2, 0, 3), np.float32)], False),
    "all_dtypes": ("every dtype of protocol/dtypes.json in one message, shape [2, 3]", all_dtypes(), False),
    "int64_limits": (
        "int64 and uint64 extremes that a JS number cannot hold",
        [np.array([-(2**63), 2**63 - 1, 0, -1], np.int64), np.array([0, 2**64 - 1, 2**53 + 1], np.uint64)],
        False,
    ),
    "non_contiguous": (
        "a transposed (Fortran-order) int32 view, sent in C order",
        [np.arange(12, dtype=np.int32).reshape(3, 4).T],
        False,
    ),
    "big_endian": (
        "a big-endian float32 and int16 array, sent little-endian",
        [np.arange(6, dtype=">f4").reshape(2, 3) / 4, np.array([-2, 258, 1000], dtype=">i2")],
        False,
    ),
    "strings": (
        "string arrays: empty strings, non-ASCII (two- to four-byte UTF-8), a 2-D shape, an empty array, "
        "and the object and bytes arrays NumPy and TensorFlow hold text in",
        [
            np.array([["", "ß", "日本"], ["🙂", "a b", ""]]),
            np.array([], dtype="<U1"),
            np.array(["x", "Größe"], dtype=object),
            np.array([b"tf", b"\xc3\x9f"]),
        ],
        False,
    ),
    "unaligned": (
        "float64, int32 and string frames that the reader places at an odd byte offset: decode must copy, not fail",
        [np.linspace(-1, 1, 5), np.array([1, -2, 3], np.int32), np.array(["odd", "日本"])],
        True,
    ),
}


# name -> (what it covers, the header as both codecs take it, the arrays, their names): header frames
# whose every byte both codecs must write alike from the same fields.
HEADERS: dict[str, tuple[str, dict, list[np.ndarray], list[str] | None]] = {
    "request": (
        "a request with args (JSON), a deadline, progress asked for, and an int8 [2, 1] array",
        {"id": 2**53 - 1, "op": "model.predict", "args": {"handle": "m1", "mode": "session", "outputs": "model"}, "deadlineMs": 30000, "progress": True},
        [np.array([[1], [-1]], np.int8)],
        None,
    ),
    "reply": (
        "a reply with a result and two named arrays, one 0-d",
        {"id": 7, "ok": True, "result": {"mode": "eager", "runMs": 1.5}},
        [np.array([1.0, 2.0], np.float32), np.array(True)],
        ["dense/0", "out"],
    ),
    "error": (
        "an error reply: its error object as JSON, no arrays",
        {"id": 9, "ok": False, "error": {"kind": "bad_request", "type": "BadRequest", "message": "no", "traceback": []}},
        [],
        None,
    ),
    "control": ("a cancel: the control code and the id, no JSON", {"id": 12, "ctl": "cancel"}, [], None),
    "ready": ("a ready control message with its fields as JSON and no id", {"id": None, "ctl": "ready", "info": {"protocol": 2}, "token": "t"}, [], None),
}


def build() -> dict[str, bytes]:
    """Every file of the vector set, by name."""
    files: dict[str, bytes] = {}
    manifest = []
    for name, (doc, arrays, misalign) in CASES.items():
        frames = encode({"id": 1, "op": "echo", "args": {}}, arrays)
        files[f"{name}.header.bin"] = bytes(frames[0])
        frame_files = []
        for i, frame in enumerate(frames[1:]):
            files[f"{name}.{i}.bin"] = bytes(frame)
            frame_files.append(f"{name}.{i}.bin")
        manifest.append({
            "name": name,
            "doc": doc,
            "header": f"{name}.header.bin",
            "frames": frame_files,
            "misalign": misalign,
            "expected": [
                {"dtype": decode_header(frames[0])["arrays"][i]["dtype"], "shape": list(a.shape), "values": expected_values(a)}
                for i, a in enumerate(arrays)
            ],
        })
    headers = []
    for name, (doc, fields, arrays, names) in HEADERS.items():
        frames = encode(fields, arrays, names)
        files[f"header_{name}.bin"] = bytes(frames[0])
        headers.append({
            "name": name,
            "doc": doc,
            "file": f"header_{name}.bin",
            "fields": fields,
            "arrays": [{"dtype": d["dtype"], "shape": d["shape"], "values": expected_values(a)} for d, a in zip(decode_header(frames[0])["arrays"], arrays)],
            "names": names,
            "decoded": {k: v for k, v in decode_header(frames[0]).items() if k != "arrays"},
        })
    files["manifest.json"] = (json.dumps({"cases": manifest, "headers": headers}, indent=1) + "\n").encode()
    return files


if __name__ == "__main__":
    for name, data in build().items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(CASES)} cases to {HERE}")

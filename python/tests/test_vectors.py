"""The shared vectors in test/vectors/: the generator reproduces them, and the codec reads them."""

import importlib.util
import json
from pathlib import Path

import pytest

from tfbridge_worker.codec import decode, decode_header, encode
from tfbridge_worker.protocol import wire_name

VECTORS = Path(__file__).resolve().parents[2] / "test" / "vectors"
spec = importlib.util.spec_from_file_location("generate_vectors", VECTORS / "generate.py")
generate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generate)
MANIFEST = json.loads((VECTORS / "manifest.json").read_text())
CASES = MANIFEST["cases"]
HEADERS = MANIFEST["headers"]


def test_the_committed_vectors_are_what_the_codec_writes_today():
    built = generate.build()
    for name, data in built.items():
        assert (VECTORS / name).read_bytes() == data, f"{name} differs: rerun test/vectors/generate.py"
    committed = {p.name for p in VECTORS.iterdir() if p.suffix in (".bin", ".json")}
    assert committed == set(built)


def misaligned(data: bytes) -> memoryview:
    return memoryview(b"\0" + data)[1:]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_python_codec_decodes_each_vector(case):
    frames = [(VECTORS / case["header"]).read_bytes()]
    frames += [(VECTORS / f).read_bytes() for f in case["frames"]]
    if case["misalign"]:
        frames[1:] = [misaligned(f) for f in frames[1:]]
    _, arrays = decode(frames)
    assert len(arrays) == len(case["expected"])
    for array, expected in zip(arrays, case["expected"]):
        assert list(array.shape) == expected["shape"]
        assert generate.expected_values(array) == expected["values"]
        assert wire_name(array.dtype) == expected["dtype"]
        if expected["dtype"] == "string":  # what TensorFlow takes as a tf.string feed
            assert array.dtype == object and all(type(s) is str for s in array.flat)
        else:
            assert array.dtype.name == expected["dtype"]


@pytest.mark.parametrize("case", HEADERS, ids=[c["name"] for c in HEADERS])
def test_each_v2_header_vector_reads_as_its_fields_and_is_written_from_them(case):
    data = (VECTORS / case["file"]).read_bytes()
    header = decode_header(data)
    assert {k: v for k, v in header.items() if k != "arrays"} == case["decoded"]
    assert [{"dtype": d["dtype"], "shape": d["shape"]} for d in header["arrays"]] == [{"dtype": a["dtype"], "shape": a["shape"]} for a in case["arrays"]]
    assert [d.get("name") for d in header["arrays"]] == (case["names"] or [None] * len(case["arrays"]))
    arrays = [generate.array_of(a) for a in case["arrays"]]
    assert bytes(encode(case["fields"], arrays, case["names"])[0]) == data

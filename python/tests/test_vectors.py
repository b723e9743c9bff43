"""The shared vectors in test/vectors/: the generator reproduces them, and the codec reads them."""

import importlib.util
import json
from pathlib import Path

import pytest

from tfbridge_worker.codec import decode
from tfbridge_worker.protocol import wire_name

VECTORS = Path(__file__).resolve().parents[2] / "test" / "vectors"
spec = importlib.util.spec_from_file_location("generate_vectors", VECTORS / "generate.py")
generate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generate)
CASES = json.loads((VECTORS / "manifest.json").read_text())["cases"]


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

"""Bounds on model files and configs (protocol/bounds.json): a file or config over one is a ModelError
naming it and the bound before Keras, json or NumPy read more than the bound; a path that is no
regular file is refused before it is opened; code in any field of a config is refused by name."""

import io
import json
import os
import struct
import threading
import zipfile

import keras
import numpy as np
import pytest

from tfbridge_worker.errors import ModelError
from tfbridge_worker.models import archives, bounds
from tfbridge_worker.models.files import load_model_file
from tfbridge_worker.models.model import KerasModel
from tfbridge_worker.models.safety import refuse_code
from tfbridge_worker.npz import read_npz

L = keras.layers


def _tiny(path) -> None:
    keras.Sequential([keras.Input((3,)), L.Dense(2, name="out")]).save(path)


def _padded_keras(good, target, pad_bytes: int, compression: int = zipfile.ZIP_DEFLATED) -> None:
    """`good` with `pad_bytes` spaces inside its config.json: valid JSON (deflated: a small file)."""
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(target, "w", compression, compresslevel=1) as dst:
        for item in src.namelist():
            if item != "config.json":
                dst.writestr(item, src.read(item))
                continue
            body = src.read(item)
            with dst.open(item, "w", force_zip64=True) as f:
                f.write(body[:-1] + b', "pad": "')
                chunk = b" " * (1 << 20)
                for _ in range(pad_bytes >> 20):
                    f.write(chunk)
                f.write(b'"}')


def test_a_config_json_over_the_bound_is_refused_naming_file_member_and_bound(tmp_path):
    good = tmp_path / "good.keras"
    _tiny(good)
    bomb = tmp_path / "bomb.keras"
    _padded_keras(good, bomb, bounds.MAX_CONFIG_BYTES + (1 << 20))
    assert bomb.stat().st_size < (1 << 20)  # a small file that says 33 MiB: a zip bomb by its expansion
    with pytest.raises(ModelError, match="member config.json: declares 34,6.* bytes from .* stored, an expansion over 100×") as info:
        load_model_file(str(bomb))
    assert info.value.details["file"] == str(bomb)
    assert info.value.details["member"] == "config.json" and info.value.details["bound"] == "maxExpansion"
    stored = tmp_path / "stored.keras"  # as large, stored as Keras stores members: over the config bound itself
    _padded_keras(good, stored, bounds.MAX_CONFIG_BYTES + (1 << 20), zipfile.ZIP_STORED)
    with pytest.raises(ModelError, match="member config.json: declares 34,6.* bytes, over the bound of 33,554,432") as info:
        load_model_file(str(stored))
    assert info.value.details["member"] == "config.json"
    assert info.value.details["bound"] == "maxBytes" and info.value.details["limit"] == bounds.MAX_CONFIG_BYTES


def test_a_member_expanding_like_a_zip_bomb_is_refused_before_it_is_read(tmp_path):
    good = tmp_path / "good.keras"
    _tiny(good)
    bomb = tmp_path / "assets-bomb.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.namelist():
            dst.writestr(item, src.read(item))
        dst.writestr("assets/zeros.bin", bytes(archives.EXPANSION_FLOOR_BYTES + 1))
    with pytest.raises(ModelError, match="zip bomb") as info:
        load_model_file(str(bomb))
    assert info.value.details["member"] == "assets/zeros.bin" and info.value.details["bound"] == "maxExpansion"


def test_members_declaring_more_in_all_than_the_total_bound_are_refused(tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a", bytes(600))
        z.writestr("b", bytes(600))
    with zipfile.ZipFile(path) as z, pytest.raises(ModelError, match="over the bound of 1,000") as info:
        archives.check_archive(z, "two.zip", total_limit=1000)
    assert info.value.details["bound"] == "maxTotalBytes" and info.value.details["found"] == 1200


def test_a_member_holding_more_than_it_declares_is_read_no_further_and_refused_as_corrupt(tmp_path):
    good = tmp_path / "good.keras"
    _tiny(good)
    liar = tmp_path / "liar.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(liar, "w") as dst:  # stored: sizes are plain in the headers
        for item in src.namelist():
            dst.writestr(item, src.read(item))
    data = bytearray(liar.read_bytes())
    with zipfile.ZipFile(liar) as z:
        info = z.getinfo("config.json")
    small = struct.pack("<II", 10, 10)
    data[info.header_offset + 18:info.header_offset + 26] = small  # local header: compressed, uncompressed size
    central = data.index(b"PK\x01\x02")
    while data[central + 46:central + 57] != b"config.json":
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 20:central + 28] = small  # central directory: the same two sizes
    liar.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="the .keras archive is corrupt"):
        load_model_file(str(liar))


def _nested(depth: int) -> dict:
    node: dict = {"leaf": 1}
    for _ in range(depth - 1):
        node = {"next": node}
    return node


def test_deep_json_is_a_model_error_naming_the_depth(tmp_path):
    config = {"class_name": "Sequential", "config": {"name": "deep", "layers": [], "extra": _nested(200)}}
    with pytest.raises(ModelError, match="nesting depth is more than 64") as info:
        refuse_code(config)
    assert info.value.details["bound"] == "maxDepth"
    # Deeper than the recursive scan goes: still refused by the bound, never a RecursionError.
    with pytest.raises(ModelError, match="maxDepth"):
        KerasModel.from_config({"class_name": "Sequential", "config": {"name": "deeper", "layers": [_nested(5000)]}})
    # In a file, deeper than Python's JSON parser goes.
    good = tmp_path / "good.keras"
    _tiny(good)
    deep = tmp_path / "deep.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(deep, "w") as dst:
        for item in src.namelist():
            dst.writestr(item, b"[" * 100_000 + b"]" * 100_000 if item == "config.json" else src.read(item))
    with pytest.raises(ModelError, match="nests deeper") as info:
        load_model_file(str(deep))
    assert info.value.details == {"file": str(deep), "bound": "maxDepth", "limit": bounds.MAX_DEPTH}


def _dense(name: str, source: str) -> dict:
    tensor = {"class_name": "__keras_tensor__", "config": {"shape": [None, 4], "dtype": "float32", "keras_history": [source, 0, 0]}}
    return {"class_name": "Dense", "config": {"name": name, "units": 4}, "name": name, "inbound_nodes": [{"args": [tensor], "kwargs": {}}]}


def _functional(layers: list, output: str) -> dict:
    entry = {"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, 4]}, "name": "x", "inbound_nodes": []}
    return {"class_name": "Functional", "config": {"name": "m", "layers": [entry, *layers], "input_layers": [["x", 0, 0]], "output_layers": [[output, 0, 0]]}}


def test_layer_count_and_sequential_length_are_bounded_naming_count_and_bound():
    sequential = {"class_name": "Sequential", "config": {"name": "long", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "x"}},
        *({"class_name": "Dense", "config": {"name": f"d{i}", "units": 4}} for i in range(bounds.MAX_SEQUENTIAL_LAYERS)),
    ]}}
    with pytest.raises(ModelError, match=f"layers of Sequential long is {bounds.MAX_SEQUENTIAL_LAYERS + 1}, over the bound of 200") as info:
        KerasModel.from_config(sequential)
    assert info.value.details == {"bound": "maxSequentialLayers", "limit": 200, "found": 201}

    wide = [_dense(f"d{i}", "x") for i in range(bounds.MAX_LAYERS)]
    nested = {"class_name": "Functional", "config": {"name": "outer", "layers": [_functional(wide, "d0")]}}
    with pytest.raises(ModelError, match="number of layers \\(nested models' layers included\\) is 2050, over the bound of 2,048") as info:
        refuse_code(nested, "wide.keras")
    assert info.value.details == {"file": "wide.keras", "bound": "maxLayers", "limit": bounds.MAX_LAYERS, "found": bounds.MAX_LAYERS + 2}


def test_the_largest_keras_application_fits_every_config_bound_with_room():
    config = json.loads(keras.applications.NASNetLarge(weights=None).to_json())
    bounds.check_config_bounds(config)
    assert 1.9 * len(config["config"]["layers"]) < bounds.MAX_LAYERS
    assert 4 * bounds.nesting_depth(config, bounds.MAX_DEPTH) < bounds.MAX_DEPTH
    assert 16 * len(json.dumps(config)) < bounds.MAX_CONFIG_BYTES


def _unblocking_writer(fifo: str) -> threading.Event:
    """Whenever anything opens `fifo` to read (the unfixed loader did), write junk and close, so it cannot hang the test."""
    done = threading.Event()

    def write() -> None:
        while not done.wait(0.05):
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                continue  # no reader now
            os.write(fd, b"junk")
            os.close(fd)

    threading.Thread(target=write, daemon=True).start()
    return done


@pytest.mark.parametrize("name", ["model.keras", "model.h5", "inputs.npz"])
def test_a_fifo_is_refused_by_what_it_is_before_it_is_opened(tmp_path, name):
    fifo = str(tmp_path / name)
    os.mkfifo(fifo)
    done = _unblocking_writer(fifo)
    try:
        with pytest.raises(ModelError, match="is a FIFO \\(named pipe\\), not a regular file( or a folder)?: refused before opening it") as info:
            read_npz(fifo) if name.endswith(".npz") else load_model_file(fifo)
        assert info.value.details["file"] == fifo
    finally:
        done.set()


def test_a_savedmodel_folder_holding_a_fifo_is_refused_naming_the_entry(tmp_path):
    folder = tmp_path / "exported"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"")
    os.mkfifo(folder / "variables" / "variables.index")
    done = _unblocking_writer(str(folder / "variables" / "variables.index"))
    try:
        with pytest.raises(ModelError, match="variables/variables.index is a FIFO"):
            load_model_file(str(folder))
    finally:
        done.set()
    with pytest.raises(ModelError, match="exported is a folder, not a regular file: refused"):
        read_npz(str(folder))


class _Marker:
    """Unpickling this writes a file: the test's proof that nothing was unpickled."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickled_object_array_in_an_npz_is_a_model_error_and_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    path = tmp_path / "objects.npz"
    np.savez(path, fine=np.arange(3, dtype="int32"), evil=np.array([_Marker(str(marker))], dtype=object))
    with pytest.raises(ModelError, match="array evil holds pickled Python objects") as info:
        read_npz(str(path))
    assert info.value.details == {"file": str(path), "member": "evil"}
    assert not marker.exists()


def test_an_npz_array_declaring_more_than_it_stores_is_refused_before_numpy_allocates_it(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (1 << 38,)})
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", header.getvalue() + bytes(16))
    with pytest.raises(ModelError, match="array x declares \\[274877906944\\] float32"):
        read_npz(str(path))
    names = tmp_path / "plain.npz"
    np.savez(names, a=np.ones((2, 3), "float32"), t=np.array(["x", "yz"]))
    arrays, listed = read_npz(str(names))
    assert listed == ["a", "t"] and arrays[0].shape == (2, 3) and list(arrays[1]) == ["x", "yz"]


_LAMBDA = {"class_name": "__lambda__", "config": {"value": ["4wEAAAAAAAAA", None, None]}}


@pytest.mark.parametrize("field", ["kernel_initializer", "kernel_regularizer", "kernel_constraint", "activation"])
@pytest.mark.parametrize("code", [
    _LAMBDA, {"class_name": "Lambda", "config": {}}, {"module": "evil", "class_name": "Thing", "config": {}},
    # A Keras class whose from_config would torch.load (unpickle) what its config holds; only safe_mode stopped it.
    {"module": "keras.layers", "class_name": "TorchModuleWrapper", "config": {"module": "gASV"}},
])
def test_code_in_any_field_is_refused_naming_the_layer_and_the_field(field, code):
    i = keras.Input((3,), name="x")
    config = json.loads(keras.Model(i, L.Dense(2, name="head")(i)).to_json())
    config["config"]["layers"][1]["config"][field] = code
    with pytest.raises(ModelError, match=f"head {field} \\({code['class_name']}\\)") as info:
        refuse_code(config, "m.keras")
    assert info.value.details["problems"][0] == {"layer": "head", "field": field, "class": code["class_name"], "reason": info.value.details["problems"][0]["reason"]}

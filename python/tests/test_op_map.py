"""The worker's op map against protocol/: one handler and one ops.json entry per op of wire.json,
arguments checked against ops.json before a handler runs, results carrying the fields it lists."""

import re

import keras
import numpy as np
import pytest

from tfbridge_worker.codec import decode_header
from tfbridge_worker.errors import BadRequest
from tfbridge_worker.op_args import check_args
from tfbridge_worker.ops import Ops
from tfbridge_worker.protocol import OP_SPECS, OPS, PROTOCOL_DIR, WIRE
from tfbridge_worker.replies import error_reply


@pytest.fixture(scope="module")
def ops():
    return Ops()


def test_one_handler_and_one_ops_json_entry_per_op_of_wire_json(ops):
    assert len(WIRE["ops"]) == len(OPS)
    assert set(ops.hello({}, [])[0]["ops"]) == set(OP_SPECS) == OPS
    # json.loads keeps the last of two equal keys: count the file's own entries too.
    text = (PROTOCOL_DIR / "ops.json").read_text(encoding="utf-8")
    assert len(re.findall(r'^ {4}"[a-z.]+": \{$', text, re.M)) == len(OPS)


@pytest.mark.parametrize(
    ("op", "args", "field", "says"),
    [
        ("model.load", {}, "model.load.path", "argument 'path' is missing"),
        ("model.load", {"path": 5}, "model.load.path", "must be string, got int"),
        ("sleep", {"seconds": True}, "sleep.seconds", "must be number, got bool"),
        ("py.get", {"ffid": 1.5}, "py.get.ffid", "must be integer, got float"),
        ("model.predict", {"handle": "h", "mode": None}, "model.predict.mode", "must be string, got NoneType"),
        ("echo", {"pad": "x"}, "echo.pad", "unknown argument 'pad' (it takes no arguments)"),
        ("model.save", {"handle": "h", "path": "a.keras", "overwrite": True}, "model.save.overwrite", "(it takes handle, path)"),
    ],
)
def test_a_wrong_argument_is_a_bad_request_naming_the_op_and_field(ops, op, args, field, says):
    with pytest.raises(BadRequest) as refused:
        ops(op, args, [])
    assert refused.value.field == field and says in str(refused.value) and str(refused.value).startswith(f"{op}: ")
    error = decode_header(error_reply(7, refused.value)[0])["error"]
    assert (error["kind"], error["field"]) == ("bad_request", field)


def test_arguments_of_the_listed_types_pass_null_where_allowed():
    check_args("model.build", {"config": {}, "weights": [], "seed": None})
    check_args("serve.predict", {"key": "k", "split": None})
    check_args("sleep", {"seconds": 0.5})
    check_args("sleep", {"seconds": 1})


def test_results_carry_the_fields_ops_json_lists(ops, tmp_path):
    def fields(op, args, arrays=()):
        result = ops(op, args, list(arrays))[0]
        assert set(result) == set(OP_SPECS[op]["result"]), op

    fields("hello", {})
    fields("echo", {}, [np.zeros(2)])
    fields("sleep", {"seconds": 0})
    config = keras.Sequential([keras.Input((3,), name="x"), keras.layers.Dense(2, name="d")]).get_config()
    model = {"class_name": "Sequential", "config": config}
    fields("model.build", {"config": model, "seed": 1})
    handle = ops("model.build", {"config": model, "seed": 1}, [])[0]["handle"]
    fields("model.predict", {"handle": handle}, [np.ones((1, 3), np.float32)])
    fields("model.weights", {"handle": handle})
    fields("model.save", {"handle": handle, "path": str(tmp_path / "m.keras")})
    fields("model.load", {"path": str(tmp_path / "m.keras")})
    fields("model.export", {"handle": handle, "path": str(tmp_path / "saved")})
    fields("model.dispose", {"handle": handle})
    np.savez(tmp_path / "a.npz", a=np.arange(3))
    fields("npz.load", {"path": str(tmp_path / "a.npz")})
    key = "cd" * 32
    fields("serve.load", {"key": key, "source": {"kind": "config", "config": model, "seed": 1}, "sourceArrays": 0})
    fields("serve.predict", {"key": key}, [np.ones((1, 3), np.float32)])
    fields("serve.unload", {"key": key})

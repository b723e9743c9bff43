import numpy as np
import pytest

from tfbridge_worker.codec import decode, decode_header, encode, encode_reply, normalize, read_request
from tfbridge_worker.errors import BadRequest
from raw_headers import raw_header as header
from tfbridge_worker.protocol import STRING, VERSION, WIRE_TO_NUMPY


def round_trip(arrays):
    frames = encode({"id": 1, "op": "echo", "args": {}}, arrays)
    return decode([bytes(f) for f in frames])


@pytest.mark.parametrize("name", [name for name in WIRE_TO_NUMPY if name != STRING])
def test_every_fixed_size_dtype_round_trips_byte_exact(name):
    rng = np.random.default_rng(1)
    raw = rng.integers(0, 256, size=5 * 7 * WIRE_TO_NUMPY[name].itemsize, dtype=np.uint8)
    if name == "bool":
        raw %= 2
    array = raw.view(WIRE_TO_NUMPY[name]).reshape(5, 7)
    header, (back,) = round_trip([array])
    assert header["arrays"] == [{"dtype": name, "shape": [5, 7]}]
    assert back.dtype == array.dtype and back.tobytes() == array.tobytes()


def test_big_endian_and_non_contiguous_are_normalized_to_the_same_values():
    big = np.arange(12, dtype=">f8").reshape(3, 4)
    transposed = np.arange(12, dtype=np.int16).reshape(3, 4).T
    _, (a, b) = round_trip([big, transposed])
    assert a.dtype.byteorder in "<=" and np.array_equal(a, big)
    assert b.flags.c_contiguous and np.array_equal(b, transposed)


def test_normalize_does_not_copy_what_is_already_wire_ready():
    array = np.ones((4, 4), np.float32)
    assert normalize(array) is array


def test_scalar_and_empty_keep_their_shapes():
    _, (scalar, empty) = round_trip([np.float64(2.5), np.zeros((0, 3), np.int8)])
    assert scalar.shape == () and scalar == 2.5
    assert empty.shape == (0, 3)


def test_a_dtype_outside_the_table_is_refused_by_name():
    with pytest.raises(KeyError, match="complex64"):
        encode({"id": 1}, [np.zeros(2, np.complex64)])


TEXT = [["", "ß", "日本"], ["🙂", "plain", "a\u0000b"]]


@pytest.mark.parametrize(
    "array",
    [np.array(TEXT), np.array(TEXT, dtype=object), np.array([[s.encode() for s in row] for row in TEXT], dtype=object)],
    ids=["unicode", "object of str", "object of bytes"],
)
def test_string_arrays_round_trip_as_object_arrays_of_str(array):
    header, (back,) = round_trip([array])
    assert header["arrays"] == [{"dtype": "string", "shape": [2, 3]}]
    assert back.dtype == object and back.tolist() == TEXT
    assert all(type(s) is str for s in back.flat)


def test_string_frames_are_uint32_offsets_then_utf8():
    frames = encode({"id": 1}, [np.array(["a", "", "ß"]), np.array([], dtype="<U1"), np.array([[b"xy"]])])
    assert bytes(frames[1]) == np.array([0, 1, 1, 3], "<u4").tobytes() + "aß".encode()
    assert bytes(frames[2]) == b"\0\0\0\0"
    assert bytes(frames[3]) == np.array([0, 2], "<u4").tobytes() + b"xy"
    _, (_, empty, bytes_2d) = decode(frames)
    assert empty.shape == (0,) and bytes_2d.shape == (1, 1) and bytes_2d[0, 0] == "xy"


def test_a_transposed_string_array_is_sent_in_c_order():
    _, (back,) = round_trip([np.array([["a", "b"], ["c", "d"]]).T])
    assert back.tolist() == [["a", "c"], ["b", "d"]]


@pytest.mark.parametrize(
    "array, error, message",
    [
        (np.array(["ok", "\ud800"]), ValueError, "index 1 holds a lone surrogate"),
        (np.array([b"ok", b"\xff"]), ValueError, "bytes at index 1 are not UTF-8"),
        (np.array(["ok", 3], dtype=object), TypeError, "holds a int at index 1"),
    ],
)
def test_text_utf8_cannot_carry_is_refused_naming_the_element(array, error, message):
    with pytest.raises(error, match=message):
        encode({"id": 1}, [np.zeros(1, np.int8), array])


def string_frame(offsets, text):
    return np.array(offsets, "<u4").tobytes() + text


@pytest.mark.parametrize(
    "frames, message",
    [
        ([], "empty message"),
        ([b""], "empty header frame"),
        ([b'{"v":1,"id":1,"op":"echo","args":{},"arrays":[]}'], r"wire format v1 \(a JSON header\) arrived.*this worker speaks v2"),
        ([header(version=9)], "wire format v9 arrived; this worker speaks v2"),
        ([header()[:20]], "shorter than its 28 fixed bytes"),
        ([header(count=1)], "ends inside its descriptor"),
        ([header(json_part=b"{}", json_bytes=5)], "its fields and 5 bytes of JSON take"),
        ([header(json_part=b"\xff\xfe")], "not UTF-8 JSON"),
        ([header(kind=9)], "message kind 9"),
        ([header(code=999)], "op code 999"),
        ([header(kind=3, code=99)], "ctl code 99"),
        ([header([("float32", [2])])], "describes 1 arrays but 0 frames"),
        ([header([(200, [1])]), b"12345678"], "dtype code 200"),
        ([header([("float32", [3])]), b"\0" * 8], "needs 12 bytes but its frame has 8"),
        ([header([("bool", [2])]), b"\x01\x07"], "other than 0 and 1"),
        ([header([("string", [2])]), string_frame([0, 1, 2], b"a\xff")], r"arrays\[0\]: the string at index 1 is not valid UTF-8"),
        ([header([("string", [2])]), string_frame([0, 1, 2], "ß".encode())], "the string at index 0 is not valid UTF-8"),
        ([header([("string", [2])]), string_frame([0, 1], b"")], "needs 12 bytes of offsets but its frame has 8"),
        ([header([("string", [1])]), string_frame([1, 1], b"a")], "must rise from 0"),
        ([header([("string", [2])]), string_frame([0, 2, 1], b"ab")], "must rise from 0"),
        ([header([("string", [1])]), string_frame([0, 1], b"ab")], "must rise from 0 to the 2 bytes"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(frames, message):
    with pytest.raises(BadRequest, match=message):
        decode(frames)


@pytest.mark.parametrize(
    "frame, message, request_id",
    [
        (header(request_id=2**53), "id must be an integer", None),
        (header(flags=3, deadline=2**53), "deadlineMs", 1),
        (header(json_part=b"[1]"), "args must be a JSON object", 1),
        (header(kind=1, code=0), "requests and control messages only", 1),
        (header(kind=3, code=5), "ctl 'progress' is not one of", 1),
    ],
)
def test_a_request_is_refused_naming_the_field_with_its_id_when_readable(frame, message, request_id):
    with pytest.raises(BadRequest, match=message) as refused:
        read_request(frame)
    assert refused.value.request_id == request_id


def test_every_kind_of_header_round_trips_with_its_fields():
    for fields in [
        {"id": 3, "op": "echo", "args": {"a": [1]}, "deadlineMs": 0, "progress": True},
        {"id": None, "op": "hello", "args": {}},
        {"id": 0, "ok": False, "error": {"kind": "python"}},
        {"id": 5, "ok": True, "result": {"x": "é"}},
        {"id": None, "ctl": "heartbeat", "busy": 2},
    ]:
        assert decode_header(encode(fields)[0]) == {"v": VERSION, **fields, "arrays": []}


def test_encode_reply_writes_what_encode_writes_for_the_same_reply():
    for request_id, result, arrays, names in [(7, {}, [], None), (None, {}, [], None), (8, {"runMs": 1.5}, [], None), (9, {}, [np.zeros(2, np.int8)], ["out"])]:
        expected = encode({"id": request_id, "ok": True, "result": result}, arrays, names)
        assert [bytes(f) for f in encode_reply(request_id, result, arrays, names)] == [bytes(f) for f in expected]

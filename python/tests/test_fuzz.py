"""10,000 random and mutated messages thrown at a real worker: each answered, the worker unharmed."""

import json
import random

import numpy as np

from test_lstm import lstm_config
from tfbridge_worker.codec import decode, encode

CORPUS = [
    encode({"id": 1, "op": "echo", "args": {}}, [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([True, False])]),
    encode({"id": 2, "op": "hello", "args": {}}),
    encode({"id": 3, "op": "model.run", "args": {"config": lstm_config(3, [2, 2]), "inputs": 1, "weights": [], "seed": 0}}, [np.ones((1, 2, 2), np.float32)]),
    encode({"id": 4, "op": "echo", "args": {}}, [np.array(7, dtype=np.int64), np.zeros((0, 4), np.float16)]),
]


def mutate(rng: random.Random, frames: list[bytes]) -> list[bytes]:
    frames = [bytearray(f) for f in frames]
    kind = rng.randrange(7)
    if kind == 0:  # flip bytes anywhere
        for _ in range(rng.randint(1, 8)):
            f = rng.choice(frames)
            if f:
                f[rng.randrange(len(f))] = rng.randrange(256)
    elif kind == 1:  # truncate a frame
        f = rng.choice(frames)
        del f[rng.randrange(len(f) + 1):]
    elif kind == 2:  # drop or duplicate a frame
        if len(frames) > 1 and rng.random() < 0.5:
            frames.pop(rng.randrange(1, len(frames)))
        else:
            frames.append(bytearray(rng.choice(frames)))
    elif kind == 3:  # random garbage instead
        frames = [bytearray(rng.randbytes(rng.randint(0, 64))) for _ in range(rng.randint(1, 3))]
    elif kind == 4:  # a well-formed header with hostile descriptors
        dtype = rng.choice(["float32", "int64", "bool", "complex128", "object", "", None, 3])
        shape = rng.choice([[2, 3], [-1], [2**62, 2**62], ["a"], [1e3], [], None])
        header = {"v": 1, "id": 9, "op": "echo", "arrays": [{"dtype": dtype, "shape": shape}]}
        frames = [bytearray(json.dumps(header).encode()), bytearray(rng.randbytes(rng.choice([0, 6, 24])))]
    elif kind == 5:  # wrong types in the header
        header = json.loads(bytes(frames[0]))
        key = rng.choice(["v", "id", "op", "args", "arrays"])
        header[key] = rng.choice([None, [], {}, "x", -1, 1.5, True, "model.run", "__import__"])
        frames[0] = bytearray(json.dumps(header).encode())
    else:  # deep or huge JSON
        frames[0] = bytearray(b"[" * rng.randint(1, 5000) + b"]" * rng.randint(0, 5000))
    return [bytes(f) for f in frames]


def test_every_mutated_message_gets_one_reply_and_the_worker_serves_on(worker):
    rng = random.Random(20261125)
    worker.socket.rcvtimeo = 10_000
    kinds = {"ok": 0, "error": 0}
    for i in range(10_000):
        base = [bytes(f) for f in rng.choice(CORPUS)]
        worker.send(mutate(rng, base) if i % 10 else base)
        header, _ = decode(worker.receive())  # a reply that breaks the wire format fails here
        assert header["ok"] in (True, False)
        kinds["ok" if header["ok"] else "error"] += 1
        if not header["ok"]:
            assert header["error"]["kind"] in ("bad_request", "model", "python") and header["error"]["message"]
    assert kinds["ok"] >= 1000 and kinds["error"] >= 5000
    assert worker.proc.poll() is None
    worker.send(encode({"id": 10_001, "op": "hello", "args": {}}))
    header, _ = decode(worker.receive())
    assert header["ok"] and header["id"] == 10_001
    worker.socket.rcvtimeo = 120_000

"""CurveZMQ keys for a worker that joins a pool over TCP (Z85 text, as zmq.curve_keypair makes)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class CurveKeys:
    """This worker's key pair and the pool's public key."""

    public: bytes
    secret: bytes
    server: bytes


def check_private(path: str) -> None:
    """A file holding a secret key must be its owner's alone (as ssh insists for its keys)."""
    mode = os.stat(path).st_mode & 0o777
    if mode & 0o077:
        raise ValueError(f"{path} holds a secret key but other users may read it (mode {mode:04o}): chmod 600 {path}")


def read_curve_keys(keys_file: str | None, server_file: str | None) -> CurveKeys | None:
    """From files (keys: public then secret, whitespace-separated), else from TFBRIDGE_CURVE_{PUBLIC,SECRET,SERVER}_KEY;
    None when neither is given."""
    if keys_file or server_file:
        if not (keys_file and server_file):
            raise ValueError("--curve-keys and --curve-server-key go together")
        check_private(keys_file)
        with open(keys_file, encoding="ascii") as f:
            words = f.read().split()
        if len(words) != 2:
            raise ValueError(f"{keys_file} must hold a public and a secret key")
        with open(server_file, encoding="ascii") as f:
            server = f.read().strip()
        return CurveKeys(words[0].encode(), words[1].encode(), server.encode())
    env = [os.environ.get(f"TFBRIDGE_CURVE_{k}_KEY") for k in ("PUBLIC", "SECRET", "SERVER")]
    if all(env):
        return CurveKeys(*(v.encode() for v in env))
    return None

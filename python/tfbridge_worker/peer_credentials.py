"""Who is at the other end of a connected Unix socket, as the kernel says (SO_PEERCRED): the fork
server and its clients each accept only the other side they expect, since an abstract socket name is
anyone's to take first. Standard library only: the fork client imports it under ``python -S``."""

from __future__ import annotations

import socket
import struct

_UCRED = struct.Struct("3i")  # pid, uid, gid


def peer_credentials(sock: socket.socket) -> tuple[int, int]:
    """The pid and uid of the process that connected (or listened on) the other end of ``sock``."""
    pid, uid, _gid = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    return pid, uid

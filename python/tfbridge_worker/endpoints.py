"""Whether a ZeroMQ endpoint is reachable from this machine only: judged by address, not by text."""

from __future__ import annotations

import ipaddress
import re
import socket

LOCAL_TRANSPORTS = frozenset({"ipc", "inproc"})
NETWORK_TRANSPORTS = frozenset({"tcp", "ws", "wss"})


def _host(rest: str) -> str:
    """The host of `[src;]HOST:PORT[/path]` (libzmq's source-address form, ws paths, [v6] brackets)."""
    target = rest.rpartition(";")[2]
    authority = target.split("/", 1)[0]
    if authority.startswith("["):
        return authority[1:].partition("]")[0]
    return authority.rpartition(":")[0]


def _loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.partition("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def is_local(endpoint: str) -> bool:
    """ipc/inproc, or tcp/ws/wss whose host resolves to loopback addresses only.

    `*`, hosts that do not resolve and any other transport are not local (so they need CurveZMQ, or
    are refused).
    """
    transport, sep, rest = endpoint.partition("://")
    transport = transport.lower()
    if not sep:
        return False
    if transport in LOCAL_TRANSPORTS:
        return True
    if transport not in NETWORK_TRANSPORTS:
        return False
    host = _host(rest)
    if host in ("", "*"):
        return False
    try:
        return _loopback(host)
    except ValueError:
        pass  # a name, not an address
    if not re.fullmatch(r"[A-Za-z0-9.-]+", host):
        return False
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(_loopback(info[4][0]) for info in infos)

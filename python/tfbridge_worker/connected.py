"""Pool mode: a worker that connects to a pool's ROUTER and keeps itself known by heartbeats.

This is ZeroMQ's Paranoid Pirate pattern. The main thread owns the sockets: it reads requests and
control messages, sends replies and heartbeats, while the executor runs requests on its own thread,
so the heartbeat keeps going during a long computation. It stops when the running request is past
its deadline (plus a grace period): a worker stuck in Python then falls silent, and the pool
replaces it. Heartbeats go both ways on a second DEALER of their own (routing id: the worker's plus
HEARTBEAT_ROUTING_ID_SUFFIX), a connection of their own: on the request connection they would wait
behind a long message (64 MiB takes 5.4 s at 100 Mbit/s), and each side would give the other up.

Outages: libzmq reconnects a dropped TCP connection by itself. A pool that counted this worker as
gone meanwhile answers its heartbeats with `rejoin`, and the worker announces itself again on the
same socket. Only after a long silence does it make new sockets (the pool may have restarted),
waiting twice as long after each attempt, up to MAX_RECONNECT_S. They have a new routing id: a ROUTER
refuses a second connection under an id it still holds, and it may hold the old one for minutes after
an outage. By then the pool has counted the silent member gone (liveness is half RECONNECT_S), so the
worker is never two members at once.

Leaving: a stop signal (SIGTERM from systemd, Ctrl-C) makes the worker say `leaving` (again with each
heartbeat, as a message may find no connection). The pool sends it
nothing new and answers `disconnect` once the requests it holds are answered; the worker then ends by
that signal. Requests already on their way still run. Without that `disconnect`, it goes once it holds
nothing and the pool has forgotten it (`rejoin`) or been silent for LEAVE_S. A second signal ends it at once.
"""

from __future__ import annotations

import json
import secrets
import sys
import time

import zmq
from zmq.utils.monitor import recv_monitor_message

from .curve import CurveKeys
from .executor import GRACE_S, Disconnect, Executor, Mailbox, Rejoin
from .ops import Ops
from .protocol import HEARTBEAT_ROUTING_ID_SUFFIX, HEARTBEAT_S, LIVENESS, max_message_bytes
from .replies import heartbeat_message, leaving_message, ready_message
from .stop_signals import StopSignals

#: Silence from the pool after which the worker makes a new socket; it doubles after each attempt.
RECONNECT_S = LIVENESS * HEARTBEAT_S * 2
MAX_RECONNECT_S = 32.0
#: How long a pool may be silent before a leaving worker with nothing to do goes without its `disconnect`.
LEAVE_S = LIVENESS * HEARTBEAT_S


def _send(socket: zmq.Socket, frames: list) -> None:
    """Sends without blocking. A DEALER with no connection blocks a send for good, and libzmq does not
    reconnect a connection it dropped itself (a frame over maxmsgsize): the worker would hang there
    instead of making a new socket. With no peer the message is dropped, as a lost connection would;
    the pool gives up on the requests it held, and the worker rejoins."""
    try:
        socket.send_multipart(frames, copy=False, flags=zmq.NOBLOCK)
    except zmq.Again:
        print(json.dumps({"dropped": "no connection to the pool"}), file=sys.stderr, flush=True)


def routing_id() -> bytes:
    """An unguessable routing id (libzmq reserves ids that start with a zero byte for its own)."""
    return bytes([1 + secrets.randbelow(255)]) + secrets.token_bytes(15)


class ConnectedWorker:
    def __init__(self, endpoint: str, ops: Ops, curve: CurveKeys | None = None):
        self.endpoint = endpoint
        self.ops = ops
        self.curve = curve
        self.context = zmq.Context.instance()
        self.mailbox = Mailbox(self.context)
        self.executor = Executor(ops, self.mailbox.deliver)

    def _dealer(self, identity: bytes) -> zmq.Socket:
        socket = self.context.socket(zmq.DEALER)
        socket.linger = 0
        socket.sndhwm = 0  # no limit: a send fails only when there is no pool to send to (see _send)
        socket.maxmsgsize = max_message_bytes()
        socket.routing_id = identity
        if self.curve:
            socket.curve_publickey, socket.curve_secretkey = self.curve.public, self.curve.secret
            socket.curve_serverkey = self.curve.server
        socket.connect(self.endpoint)
        return socket

    def _sockets(self) -> tuple[zmq.Socket, zmq.Socket]:
        """The request socket, which announces the worker, and the heartbeat socket."""
        identity = routing_id()
        socket = self._dealer(identity)
        _send(socket, ready_message(self.ops))
        return socket, self._dealer(identity + HEARTBEAT_ROUTING_ID_SUFFIX)

    @property
    def _idle(self) -> bool:
        """Nothing to run and no reply waiting to be sent."""
        return not self.executor.busy and self.mailbox.replies.empty()

    def _watch_handshakes(self, socket: zmq.Socket, poller: zmq.Poller) -> zmq.Socket | None:
        """With CURVE, a refused handshake is otherwise silent: report it on stderr for operators."""
        if not self.curve:
            return None
        monitor = socket.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        poller.register(monitor, zmq.POLLIN)
        return monitor

    def run(self) -> None:
        """Serves until the pool says `disconnect`, or until it has left after a stop signal; in that case
        the process ends by the signal."""
        stop = StopSignals()
        stop.install()
        try:
            self._serve(stop)
        except BaseException:
            stop.restore()  # the failure is reported as it is, not replaced by the signal
            raise
        stop.end_as_asked()

    def _serve(self, stop: StopSignals) -> None:
        socket, beats = self._sockets()
        poller = zmq.Poller()
        for s in (socket, beats, self.mailbox.ready, stop.wakeup_fd):
            poller.register(s, zmq.POLLIN)
        monitor = self._watch_handshakes(socket, poller)
        next_heartbeat = time.monotonic() + HEARTBEAT_S
        pool_seen = time.monotonic()
        reconnect_after = RECONNECT_S
        leaving = False
        forgotten = False  # leaving, and the pool no longer counts this worker (it said rejoin)
        while True:
            if stop.asked and not leaving:
                print(json.dumps({"leaving": self.endpoint, "signal": stop.asked.name}), file=sys.stderr, flush=True)
                _send(socket, leaving_message())
                leaving = True
            events = dict(poller.poll(HEARTBEAT_S * 1000))
            if events.get(stop.wakeup_fd):
                stop.drain()
            for incoming in (socket, beats):
                if not events.get(incoming):
                    continue
                pool_seen = time.monotonic()
                reconnect_after = RECONNECT_S
                try:
                    reply = self.executor.receive(incoming.recv_multipart(copy=False))
                except Disconnect:
                    return
                except Rejoin:
                    # A leaving worker does not come back: nothing it holds is awaited any more.
                    forgotten = leaving
                    reply = None if leaving else ready_message(self.ops)
                if reply is not None:
                    _send(socket, reply)
            if monitor is not None and events.get(monitor):
                event = recv_monitor_message(monitor)
                refusal = {"refused": self.endpoint, "event": event["event"], "status": event["value"]}
                print(json.dumps(refusal), file=sys.stderr, flush=True)
            if events.get(self.mailbox.ready):
                reply = self.mailbox.take()
                _send(socket, reply)
            now = time.monotonic()
            # Leaving, it goes on the pool's `disconnect`; without it, only once it holds nothing and the pool
            # has forgotten it or fallen silent: while the pool is there, a long reply handed to libzmq may
            # still be on the wire, and a long request on its way (linger 0 would drop either).
            if leaving and self._idle and (forgotten or now - pool_seen > LEAVE_S):
                return
            stuck = self.executor.overdue(GRACE_S)
            if now >= next_heartbeat:
                next_heartbeat = now + HEARTBEAT_S
                if not stuck:
                    _send(beats, heartbeat_message(self.executor.busy))
                if leaving:
                    _send(socket, leaving_message())  # again, in case the first found no connection
            if now - pool_seen > reconnect_after and not stuck and not leaving:
                # The pool went quiet: reconnect (it may have restarted), as the Paranoid Pirate does,
                # backing off so a long outage does not churn sockets.
                # (A stuck worker does not come back as a fresh one while its request still runs.)
                print(json.dumps({"reconnecting": self.endpoint}), file=sys.stderr, flush=True)
                pool_seen = now
                reconnect_after = min(2 * reconnect_after, MAX_RECONNECT_S)
                for s in (socket, beats):
                    poller.unregister(s)
                if monitor is not None:
                    poller.unregister(monitor)
                    socket.disable_monitor()
                    monitor.close()
                socket.close()
                beats.close()
                socket, beats = self._sockets()
                poller.register(socket, zmq.POLLIN)
                poller.register(beats, zmq.POLLIN)
                monitor = self._watch_handshakes(socket, poller)

"""One client's worker: a ROUTER socket, requests run in order on the executor, every one answered."""

from __future__ import annotations

import json
import sys

import zmq

from .executor import Disconnect, Executor, Mailbox, Rejoin
from .ops import Ops
from .protocol import MAX_MESSAGE_BYTES


def serve(endpoint: str, proxies=None) -> None:
    context = zmq.Context.instance()
    socket = context.socket(zmq.ROUTER)
    socket.linger = 0
    socket.maxmsgsize = MAX_MESSAGE_BYTES
    socket.bind(endpoint)
    mailbox = Mailbox(context)
    executor = Executor(Ops(proxies), mailbox.deliver)
    poller = zmq.Poller()
    poller.register(socket, zmq.POLLIN)
    poller.register(mailbox.ready, zmq.POLLIN)
    print(json.dumps({"listening": endpoint}), file=sys.stderr, flush=True)
    while True:
        events = dict(poller.poll())
        if events.get(socket):
            identity, *frames = socket.recv_multipart(copy=False)
            try:
                reply = executor.receive(identity, frames)
            except Disconnect:
                return
            except Rejoin:
                continue  # a pool's request; one client's worker has no membership to renew
            if reply is not None:
                socket.send_multipart([identity, *reply], copy=False)
        if events.get(mailbox.ready):
            identity, reply = mailbox.take()
            socket.send_multipart([identity, *reply], copy=False)

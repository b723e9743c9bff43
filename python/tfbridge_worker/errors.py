"""Errors the worker reports with a kind of their own, so the client can tell bad input from a failure."""

import traceback


def traceback_frames(exc: BaseException) -> list[dict]:
    """An exception's traceback as data: one {file, line, function, code} per frame."""
    return [
        {"file": f.filename, "line": f.lineno, "function": f.name, "code": f.line or ""}
        for f in traceback.extract_tb(exc.__traceback__)
    ]


class BadRequest(ValueError):
    """The message broke the wire format (v2): malformed header, unknown op, frame size that disagrees, ...

    ``request_id`` is the request's id when the header was readable enough to have a valid one, so the
    reply reaches the request it is about.
    """

    kind = "bad_request"

    def __init__(self, message: str, request_id: int | None = None, field: str | None = None):
        super().__init__(message)
        self.request_id = request_id
        #: The argument at fault (`op.field`, e.g. ``model.load.path``), when one is.
        self.field = field


class MessageTooLarge(ValueError):
    """A request, or the reply it would get, is over the message size cap (all frames counted)."""

    kind = "too_large"


class ModelError(ValueError):
    """A model file, config, weights list or input is unusable; ``details`` says where (file, layer, input...)."""

    kind = "model"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = {k: v for k, v in details.items() if v is not None}


class EagerTensorInSessionError(TypeError):
    """An eager tensor reached code that needs a symbolic (graph) tensor: the seed's TF1 trap on TF2."""


class Cancelled(RuntimeError):
    """The client cancelled the request, or its deadline passed, before the worker ran it."""

    kind = "cancelled"

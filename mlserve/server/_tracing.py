"""Request ids: the ``X-Request-ID`` a request carries (or one made for it), on every answer.

A client (or the proxy in front) may send ``X-Request-ID``; a value that is safe to write in a
log line as it is (:data:`MAX_REQUEST_ID_LENGTH` characters at most, letters, digits and
``- _ . : + = / @``) is kept, anything else is replaced by a new id, so a hostile header can
neither forge log lines (a newline, a quote) nor grow them. The id goes back in the answer's
``X-Request-ID`` header, into the access log (``mlserve.server._access_log``, which reads it
from the WSGI environ under :data:`ENVIRON_KEY`) and into the server's log lines about that
request (:func:`current_request_id`, read by :mod:`mlserve.server._errors`).
"""

from __future__ import annotations

import contextvars
import os
import re

__all__ = [
    "ENVIRON_KEY",
    "HEADER",
    "MAX_REQUEST_ID_LENGTH",
    "current_request_id",
    "new_request_id",
    "request_id_for",
    "set_current",
]

#: the header read from requests and written on every answer
HEADER = "X-Request-ID"
#: the WSGI environ key holding the request's id (read by the access logger)
ENVIRON_KEY = "mlserve.request_id"
#: the longest id taken from a client (a W3C traceparent is 55, a UUID 36)
MAX_REQUEST_ID_LENGTH = 128

_SAFE = re.compile(r"[A-Za-z0-9._:+=/@-]{1,%d}" % MAX_REQUEST_ID_LENGTH)  # noqa: UP031
_CURRENT: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mlserve_request_id", default=None
)


def new_request_id() -> str:
    """A fresh id: 32 hex digits (128 random bits, the size of a UUID)."""
    return os.urandom(16).hex()


def request_id_for(sent: str | None) -> str:
    """The id for a request that sent ``sent`` as its ``X-Request-ID`` (``None``: none sent):
    the client's value when it is safe, else a new one."""
    if sent is not None and _SAFE.fullmatch(sent):
        return sent
    return new_request_id()


def set_current(request_id: str | None) -> contextvars.Token[str | None]:
    """Make ``request_id`` the id of the request this thread serves (until reset with the
    returned token)."""
    return _CURRENT.set(request_id)


def reset_current(token: contextvars.Token[str | None]) -> None:
    """Undo :func:`set_current` (the thread goes back to serving no request)."""
    _CURRENT.reset(token)


def current_request_id() -> str | None:
    """The id of the request this thread is serving, or ``None`` outside a request."""
    return _CURRENT.get()

"""Error answers written straight to a client's socket, before or without the application.

gunicorn answers the requests it refuses itself (a malformed request line or header, headers too
large, a bad chunk) with an HTML page quoting the offending bytes; the worker answers those, and
a client whose body stalled in the event loop, with our JSON error body and a fixed message per
status, so no request bytes are ever echoed.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from gunicorn import util

from mlserve.server._errors import answer_for_http

__all__ = ["TIMEOUT_ANSWER", "send_quietly", "write_json_error"]

# gunicorn's refusals by status; the request's own bytes are never echoed
_PROTOCOL_ERRORS = {
    400: "The request is not valid HTTP (request line, header or chunked framing).",
    403: "The request is forbidden.",
    414: "The request line is too long.",
    417: "The Expect header is not supported.",
    431: "The request headers are too large or too many.",
    501: "The request's Transfer-Encoding is not supported.",
}


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """Stands in for gunicorn's ``util.write_error``: the same answer as a JSON error body.

    ``mesg`` (gunicorn's text, which may quote the request) is not sent; a 500 (a fault while
    handling the request, already logged by gunicorn) gets the generic internal-error text.
    """
    message = _PROTOCOL_ERRORS.get(
        status_int,
        "Internal server error; the details are in the server log."
        if status_int >= 500
        else "The request was refused.",
    )
    util.write_nonblock(sock, _response(status_int, reason, message))


def _response(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 response carrying the JSON error, closing the connection."""
    answer = answer_for_http(status, message)
    head = f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in answer.headers)
    head += f"Content-Length: {len(answer.body)}\r\n\r\n"
    return head.encode("latin-1") + answer.body


#: what a client whose body stalled past the read deadline gets before its connection closes
TIMEOUT_ANSWER = _response(
    408,
    "Request Timeout",
    "The request did not arrive in time (too slow a client; see --header-timeout).",
)


def send_quietly(sock: socket.socket, data: bytes) -> None:
    """One non-blocking send; the client is too slow to deserve a wait."""
    with contextlib.suppress(OSError):
        sock.send(data)

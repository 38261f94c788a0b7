"""Reading a request body: within the size limit, the deadline, and the framing rules.

Every refusal is an HTTP answer of its own (werkzeug ``HTTPException``): 413 past
``--max-body-size`` (from ``Content-Length`` alone, or as soon as a chunked body passes it), 501
for a compression coding before ``chunked``, 400 for a body cut short or badly framed, and
:class:`BodyTimeout` (answered 408) when the request's deadline passes first.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import get_content_length

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["BodyTimeout", "SlowBody", "TooLarge", "read_body"]

_READ_CHUNK = 1024 * 1024


class BodyTimeout(Exception):
    """The client did not finish sending its body before the request's deadline."""


def read_body(environ: WSGIEnvironment, max_body_size: int) -> bytes:
    """Read the request body within the size limit.

    A declared ``Content-Length`` over the limit is refused before reading anything; a
    body of unknown length (chunked) is read in pieces and refused as soon as it passes
    the limit, so at most ``max_body_size`` bytes are ever held. A body cut short is a 400,
    or a 408 when the production runner's socket says the request ran out of time
    (:mod:`mlserve.server._worker`).
    """
    codings = environ.get("HTTP_TRANSFER_ENCODING", "").lower().replace(" ", "")
    if codings not in ("", "chunked"):
        # gzip, deflate or compress before chunked: gunicorn frames the body but does not
        # decode it, and a compressed body decoded as JSON would be a misleading 400
        raise UnsupportedCoding()
    length = get_content_length(environ)
    if length is not None and length > max_body_size:
        raise TooLarge(max_body_size)
    stream = environ["wsgi.input"]
    if length is None and not environ.get("wsgi.input_terminated"):
        # no length and a server that does not frame the body: there is no body to read
        return b""
    try:
        if length is not None:
            body = stream.read(length) if length else b""
            if len(body) == length:
                return bytes(body)
        else:
            return _read_until(stream, max_body_size)
    except TimeoutError:
        raise BodyTimeout() from None
    except OSError:  # gunicorn's NoMoreData for a body cut short, a reset connection
        pass
    except HTTPException:
        raise
    except Exception as exc:
        # the WSGI server's reader refused the body's framing (gunicorn: a malformed
        # chunk): the client's mistake, never a 500
        raise MalformedBody() from exc
    if isinstance(sock := environ.get("gunicorn.socket"), socket.socket) and getattr(
        sock, "timed_out", False
    ):
        raise BodyTimeout()
    raise Disconnected()


class TooLarge(HTTPException):
    code = 413

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The request body is larger than the server's limit of {limit} bytes "
            "(--max-body-size)."
        )


class SlowBody(HTTPException):
    code = 408

    def __init__(self, timeout: float | None) -> None:
        within = f"within {timeout:g} s" if timeout else "in time"
        super().__init__(f"The request body did not arrive {within}.")


class UnsupportedCoding(HTTPException):
    code = 501
    description = (
        "The request's Transfer-Encoding is not supported: only chunked is; send the body "
        "without a compression coding."
    )


class MalformedBody(HTTPException):
    code = 400
    description = "The request body is not validly framed (malformed chunked encoding)."


class Disconnected(HTTPException):
    code = 400
    description = "The client closed the connection before sending the whole body."


def _read_until(stream: Any, limit: int) -> bytes:
    """Read a body of unknown length, refusing it as soon as it passes ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(min(_READ_CHUNK, limit - size + 1))
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            raise TooLarge(limit)
        parts.append(chunk)

"""Map errors to HTTP answers: a status, headers and a ``{"error_code", "message"}`` JSON body.

Two kinds of failure reach the client:

- an :class:`~mlserve.errors.MlserveError` raised while serving (a bad payload, a schema mismatch,
  a full queue, a deadline): its class picks the status, its ``error_code`` and message go in
  the body;
- an HTTP-level refusal (unknown path, wrong method, body too large, body too slow): the status
  is fixed and the error code is one of MLflow's codes, listed in ``HTTP_ERROR_CODES``.

Anything else is a server fault: 500 with a generic message and an incident id; the traceback
goes to the log, never to the client.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterable

from mlserve.codecs import encode_error
from mlserve.errors import (
    BadRequest,
    InvalidParameterValue,
    MlserveError,
    ModelPredictError,
    PayloadTooLarge,
    RequestTimeout,
    ResourceAlreadyExists,
    ResourceNotFound,
    ServerBusy,
    UnsupportedContentType,
)
from mlserve.server._tracing import current_request_id

__all__ = [
    "HTTP_ERROR_CODES",
    "MAX_MESSAGE_CHARS",
    "STATUS_BY_ERROR",
    "ErrorAnswer",
    "answer_for_error",
    "answer_for_http",
    "answer_for_unexpected",
]

logger = logging.getLogger("mlserve.server")

JSON = "application/json"

# error class -> HTTP status; the most specific class in an exception's MRO wins
STATUS_BY_ERROR: dict[type[MlserveError], int] = {
    UnsupportedContentType: 415,
    PayloadTooLarge: 413,
    BadRequest: 400,
    InvalidParameterValue: 400,
    ResourceNotFound: 404,
    ResourceAlreadyExists: 409,
    ServerBusy: 503,
    RequestTimeout: 504,
}

# HTTP status of a refusal made by the server itself -> MLflow error code in the body
HTTP_ERROR_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    405: "BAD_REQUEST",
    408: "DEADLINE_EXCEEDED",
    411: "BAD_REQUEST",
    413: "RESOURCE_EXHAUSTED",
    414: "RESOURCE_EXHAUSTED",
    415: "BAD_REQUEST",
    417: "BAD_REQUEST",
    431: "RESOURCE_EXHAUSTED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


#: the longest ``message`` an error body carries; the rest is cut (see :class:`ErrorAnswer`)
MAX_MESSAGE_CHARS = 1000


class ErrorAnswer:
    """An error response ready to send: ``status`` (int), ``headers`` and the JSON ``body``.

    A message longer than :data:`MAX_MESSAGE_CHARS` is cut there, saying how much was left
    out: a message can quote a request's own names or a model's exception text, and a client
    that sent a 100 kB column name should not get it back in its error.
    """

    __slots__ = ("body", "headers", "status")

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.status = status
        if len(message) > MAX_MESSAGE_CHARS:
            cut = len(message) - MAX_MESSAGE_CHARS
            message = f"{message[:MAX_MESSAGE_CHARS]}... ({cut:,} more characters not shown)"
        self.body = encode_error(error_code, message)
        self.headers = [("Content-Type", JSON), *headers]

    def __repr__(self) -> str:
        return f"ErrorAnswer({self.status}, {self.body!r})"


def status_for(exc: MlserveError) -> int:
    """The HTTP status for ``exc``: the entry of its most specific class, else 500."""
    for cls in type(exc).__mro__:
        status = STATUS_BY_ERROR.get(cls)
        if status is not None:
            return status
    return 500


def answer_for_error(exc: MlserveError) -> ErrorAnswer:
    """Answer an :class:`~mlserve.errors.MlserveError` raised while serving a request.

    Client mistakes keep their class's ``error_code`` and message (our messages never contain
    the request body), except the model's own exception (:class:`ModelPredictError`), whose
    message may quote request values: the client gets its type and an incident id, the log the
    message. A :class:`~mlserve.errors.ServerBusy` adds ``Retry-After`` (whole
    seconds, at least 1). An error that maps to 500 (a broken plugin, a missing extra) is
    logged and answered like any unexpected fault, so no internal detail leaks.
    """
    status = status_for(exc)
    if status >= 500 and status not in (503, 504):
        return answer_for_unexpected(exc)
    if isinstance(exc, ModelPredictError):
        return _answer_for_model_error(exc)
    headers: list[tuple[str, str]] = []
    if isinstance(exc, ServerBusy):
        headers.append(("Retry-After", str(max(1, math.ceil(exc.retry_after)))))
    return ErrorAnswer(status, exc.error_code, exc.message, headers)


def _answer_for_model_error(exc: ModelPredictError) -> ErrorAnswer:
    """400 naming the model's exception type, never its message: a model's own message quotes
    what it was given (``could not convert string to float: 'SECRET-PII-123'``), and no
    request value goes back in an error. The message is logged under the incident id sent."""
    incident = uuid.uuid4().hex[:12]
    logger.warning(
        "The model raised (incident %s, request %s): %s: %s",
        incident, current_request_id() or "-", exc.exc_type, exc.detail,
    )  # fmt: skip
    message = (
        f"Model prediction failed: the model raised {exc.exc_type} (incident {incident}; its "
        "message, which may quote the request, is in the server log)."
    )
    return ErrorAnswer(400, exc.error_code, message)


def answer_for_http(
    status: int, message: str, headers: Iterable[tuple[str, str]] = ()
) -> ErrorAnswer:
    """Answer a refusal made at the HTTP level (404, 405, 408, 413, ...).

    The error code comes from ``HTTP_ERROR_CODES`` (``BAD_REQUEST`` for a status not listed).
    """
    code = HTTP_ERROR_CODES.get(status, "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR")
    return ErrorAnswer(status, code, message, headers)


def answer_for_unexpected(exc: BaseException) -> ErrorAnswer:
    """Answer a server fault: 500 with a generic message naming an incident id.

    The traceback is logged with the same id, so an operator can find it from what the client
    reports; the client sees neither the exception text nor the traceback.
    """
    incident = uuid.uuid4().hex[:12]
    logger.error(
        "Internal error (incident %s, request %s)",
        incident, current_request_id() or "-", exc_info=exc,
    )  # fmt: skip
    return ErrorAnswer(
        500,
        "INTERNAL_ERROR",
        f"Internal server error (incident {incident}); the details are in the server log.",
    )

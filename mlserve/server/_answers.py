"""The app's plain answers: a 200 JSON body sent without building a response object, an error
answer as a response, the ``Allow`` header, and ``GET /metrics``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from mlserve.server._errors import ErrorAnswer, answer_for_http
from mlserve.server._metrics import missing_extra

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from mlserve.server._metrics import ServerMetrics

__all__ = ["JSON", "allow", "error_response", "metrics_response", "ok_json"]

JSON = "application/json"


def ok_json(
    body: bytes,
    environ: WSGIEnvironment,
    start_response: StartResponse,
    media_type: str = JSON,
    headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    """Send a 200 with ``body`` (none for HEAD)."""
    # What Response(body, content_type=...) sends, without building one: on a 1-row request
    # the werkzeug response object was ~10 % of a worker's CPU
    start_response(
        "200 OK",
        [("Content-Type", media_type), ("Content-Length", str(len(body))), *headers],
    )
    return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def error_response(answer: ErrorAnswer) -> Response:
    """An :class:`~mlserve.server._errors.ErrorAnswer` as a response."""
    return Response(answer.body, status=answer.status, headers=answer.headers)


def allow(methods: Iterable[str]) -> str:
    """An ``Allow`` header value: the route's own methods first, OPTIONS last."""
    return ", ".join(sorted(methods, key=lambda m: (m == "OPTIONS", m)))


def metrics_response(metrics: ServerMetrics | None, wanted: bool) -> Response:
    """``GET /metrics``: the Prometheus text format, or why there is none (``wanted`` and no
    ``metrics``: prometheus_client is missing; neither: ``--no-metrics``)."""
    if metrics is None and wanted:
        return error_response(answer_for_http(501, missing_extra().message))
    if metrics is None:
        return error_response(
            answer_for_http(404, "Metrics are off on this server (--no-metrics).")
        )
    return Response(metrics.scrape(), content_type=metrics.content_type)

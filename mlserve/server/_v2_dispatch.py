"""Which V2 route answers a request: the server document, the repository extension, or a
served model's :class:`~mlserve.server._v2.V2Routes` (the default model's for the routes that
name none), with an inference run on the prediction threads under the request's deadline, as
``/invocations`` runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from mlserve.server import _v2 as v2
from mlserve.server._body import BodyTimeout, SlowBody, read_body
from mlserve.server._repository import Repository, load_request_uri

if TYPE_CHECKING:
    from mlserve.server._deadline import DeadlinePool
    from mlserve.server._memory import IdleTrimmer

__all__ = ["V2Dispatch"]


class V2Dispatch:
    """Answers the V2 routes of one server (``answer``); ``server_document`` is ``GET /v2``'s
    body and ``default`` the routes of the model that answers ``/invocations``."""

    def __init__(
        self,
        *,
        repository: Repository,
        default: v2.V2Routes,
        server_document: dict[str, Any],
        pool: DeadlinePool,
        trimmer: IdleTrimmer,
        timeout: float | None,
        max_body_size: int,
    ) -> None:
        self._repository = repository
        self._default = default
        self._server = v2.json_response(server_document)
        self._pool = pool
        self._trimmer = trimmer
        self._timeout = timeout
        self._max_body_size = max_body_size

    def answer(
        self, request: Request, endpoint: str, values: Mapping[str, Any]
    ) -> Response | v2.Answer:
        """The answer to a matched V2 endpoint (``endpoint`` starts with ``v2_``)."""
        deadline = None if self._timeout is None else time.monotonic() + self._timeout

        def run(work: Callable[[], Any], body_size: int) -> Any:
            self._trimmer.started(body_size)
            try:
                return self._pool.run(work, deadline=deadline)
            finally:
                self._trimmer.finished()

        if endpoint == "v2_server":
            return self._server
        if endpoint.startswith("v2_repo"):
            return self._repository_route(request, endpoint, values)
        header = request.headers.get("Inference-Header-Content-Length")
        try:
            header_length = None if header is None else int(header)
        except ValueError:
            header_length = -1  # refused by the decoder as out of the body
        routes = self._default
        if "name" in values:
            models = self._repository.models()
            served = models.get(values["name"])
            if served is None:
                return v2.unknown_model(values["name"], list(models))
            routes = served.v2
        return routes.answer(endpoint, values, lambda: self._body(request), run, header_length)

    def _body(self, request: Request) -> bytes:
        try:
            return read_body(request.environ, self._max_body_size)
        except BodyTimeout:
            raise SlowBody(self._timeout) from None

    def _repository_route(
        self, request: Request, endpoint: str, values: Mapping[str, Any]
    ) -> Response:
        """The repository extension: index, load, unload (``{"error"}`` on failure)."""
        try:
            if endpoint == "v2_repo_index":
                return v2.json_response(self._repository.index())
            if endpoint == "v2_repo_unload":
                self._repository.unload(values["name"])
            else:
                self._repository.load(values["name"], load_request_uri(self._body(request)))
            return Response(b"", status=200)
        except Exception as exc:
            return v2.error_response(exc)

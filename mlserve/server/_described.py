"""The two answers that describe the served models: ``GET /openapi.json`` and the page ``GET /``.

Both are built on first request and kept until the served models change (the repository
extension loads and unloads models while serving), so a request for either costs a lookup.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from mlserve.server._model_page import page_headers, render_page
from mlserve.server._openapi import openapi_document

if TYPE_CHECKING:
    from mlserve.server._served import ServedModel

__all__ = ["Described"]


class Described:
    """Answers ``openapi`` and ``model_page`` for the models ``served()`` returns."""

    def __init__(
        self, served: Callable[[], Sequence[ServedModel]], version: str, *, repository: bool
    ) -> None:
        self._served = served
        self._version = version
        self._repository = repository
        self._lock = threading.Lock()
        self._models: list[ServedModel] = []  # held, so an id is never reused under us
        self._built: dict[str, bytes] = {}

    def response(self, endpoint: str) -> Response:
        """The answer for ``openapi`` (JSON) or ``model_page`` (HTML)."""
        models = list(self._served())
        with self._lock:
            same = len(models) == len(self._models) and all(
                a is b for a, b in zip(models, self._models, strict=True)
            )
            if not same:
                self._built, self._models = {}, models
            body = self._built.get(endpoint)
            if body is None:
                body = self._build(endpoint, models)
                self._built[endpoint] = body
        if endpoint == "openapi":
            return Response(body, content_type="application/json")
        return Response(body, headers=page_headers())

    def _build(self, endpoint: str, models: Sequence[ServedModel]) -> bytes:
        if endpoint == "openapi":
            document = openapi_document(models, version=self._version, repository=self._repository)
            return json.dumps(document, default=str, allow_nan=False).encode()
        return render_page(models, self._version)

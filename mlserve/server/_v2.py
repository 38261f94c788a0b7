"""The Open Inference Protocol (V2) routes of a served model, spec-literal.

=========================================================  ==================================
``GET /v2``                                                 server name, version, extensions
``GET /v2/health/live``, ``/v2/health/ready``               200 with an empty body
``GET /v2/models/{name}[/versions/{v}]``                    model metadata from the signature
``GET /v2/models/{name}[/versions/{v}]/ready``              200 with an empty body
``POST /v2/models/{name}[/versions/{v}]/infer``             inference
=========================================================  ==================================

Errors are ``{"error": "<message>"}`` with the status the same mistake gets on
``/invocations`` (400 for a bad request, 404 for an unknown model or version, 413, 415, 504),
and the message never echoes request values. Names and versions are case-sensitive, as the
spec says. The request and response bodies are :mod:`mlserve.codecs._v2`'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from mlserve.codecs._plan import DecodePlan
from mlserve.codecs._v2 import decode_v2_request, encode_v2_response
from mlserve.codecs._v2_types import input_metadata, output_metadata, platform_of
from mlserve.errors import MlserveError, ResourceNotFound
from mlserve.server._errors import answer_for_error, answer_for_unexpected

if TYPE_CHECKING:
    from mlserve import PyFuncModel

__all__ = [
    "Answer",
    "V2Routes",
    "error_response",
    "json_response",
    "model_identity",
    "rules",
    "unknown_model",
]

_JSON = "application/json"


def rules() -> list[Rule]:
    """The werkzeug rules of the V2 routes (endpoints start with ``v2_``)."""
    found = [
        Rule("/v2", endpoint="v2_server", methods=["GET"]),
        Rule("/v2/health/live", endpoint="v2_live", methods=["GET"]),
        Rule("/v2/health/ready", endpoint="v2_ready", methods=["GET"]),
    ]
    found += [
        Rule("/v2/repository/index", endpoint="v2_repo_index", methods=["POST"]),
        Rule("/v2/repository/models/<name>/load", endpoint="v2_repo_load", methods=["POST"]),
        Rule("/v2/repository/models/<name>/unload", endpoint="v2_repo_unload", methods=["POST"]),
    ]
    for base in ("/v2/models/<name>", "/v2/models/<name>/versions/<version>"):
        found += [
            Rule(base, endpoint="v2_metadata", methods=["GET"]),
            Rule(f"{base}/ready", endpoint="v2_model_ready", methods=["GET"]),
            Rule(f"{base}/infer", endpoint="v2_infer", methods=["POST"]),
        ]
    return found


def model_identity(model_uri: str | None) -> tuple[str, str | None]:
    """A model's V2 ``(name, version)`` from the URI it was served from.

    ``models:/Name/3`` is ``("Name", "3")``; ``models:/Name@alias`` and ``/latest`` are
    ``("Name", None)``; a path or ``runs:/`` URI is named by its last part.
    """
    uri = (model_uri or "model").rstrip("/")
    if uri.startswith("models:"):
        body = uri[len("models:") :].lstrip("/")
        name, _, suffix = body.partition("/")
        name = name.rpartition("@")[0] or name
        return name, suffix if suffix.isdigit() else None
    return uri.replace("\\", "/").rsplit("/", 1)[-1] or "model", None


class Answer(NamedTuple):
    """A 200 answer's body, media type and extra headers."""

    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


class V2Routes:
    """Answers the V2 routes for one model called ``name`` (version ``version`` or none).

    ``predict`` is the server's predict callable for the model (its lock when the flavor is not
    thread-safe, its batcher when batching is on), the one ``/invocations`` goes through;
    ``parameters`` go into the model's metadata (``memory_bytes``, when it was measured).
    """

    def __init__(
        self,
        model: PyFuncModel,
        name: str,
        version: str | None,
        plan: DecodePlan,
        predict: Callable[[Any, dict | None], Any],
        *,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.plan = plan
        self._predict = predict
        signature = model.signature
        self._output_names = tuple(
            e["name"] for e in output_metadata(signature.outputs if signature else None)
        )
        metadata: dict[str, Any] = {"name": name}
        if version is not None:
            metadata["versions"] = [version]
        metadata["platform"] = platform_of(getattr(model.metadata, "flavors", None))
        metadata["inputs"] = input_metadata(signature.inputs if signature else None)
        metadata["outputs"] = output_metadata(signature.outputs if signature else None)
        if parameters:  # the spec's optional metadata parameters (MLServer's field too)
            metadata["parameters"] = dict(parameters)
        self._metadata = json.dumps(metadata).encode()

    def answer(
        self,
        endpoint: str,
        values: Mapping[str, Any],
        body: Callable[[], bytes],
        run: Callable[[Callable[[], tuple[bytes, int | None]], int], tuple[bytes, int | None]],
        header_length: int | None = None,
    ) -> Response | Answer:
        """The response for a matched V2 endpoint; every failure is a ``{"error"}`` body. An
        inference's 200 is an :class:`Answer`, which the app sends without building a response
        object (as it does /invocations' predictions).

        ``body`` reads the request body; ``run(work, body_size)`` runs the inference on the
        prediction threads under the request's deadline; ``header_length`` is the request's
        ``Inference-Header-Content-Length`` (binary tensors follow its JSON).
        """
        try:
            if endpoint in ("v2_live", "v2_ready"):
                return Response(b"", status=200)
            self._check(values)
            if endpoint == "v2_metadata":
                return Response(self._metadata, content_type=_JSON)
            if endpoint == "v2_model_ready":
                return Response(b"", status=200)
            data = body()  # read before the prediction thread is taken, as /invocations does
            result, json_length = run(lambda: self._infer(data, header_length), len(data))
            if json_length is None:
                return Answer(result, _JSON)
            headers = (("Inference-Header-Content-Length", str(json_length)),)
            return Answer(result, "application/octet-stream", headers)
        except MlserveError as exc:
            return _error(*_status_and_message(exc))
        except HTTPException as exc:  # the body's size, framing or arrival time
            return _error(exc.code or 400, exc.description or "")
        except Exception as exc:  # a fault of ours: logged with an incident id, never echoed
            answer = answer_for_unexpected(exc)
            return _error(answer.status, json.loads(answer.body)["message"])

    def _check(self, values: Mapping[str, Any]) -> None:
        if values.get("name") != self.name:
            raise _Unknown(f"Unknown model {values.get('name', '')[:100]!r}; served: {self.name!r}")
        version = values.get("version")
        if version is not None and version != self.version:
            served = repr(self.version) if self.version is not None else "none named"
            raise _Unknown(f"Unknown version {version[:50]!r} of {self.name!r}; served: {served}")

    def _infer(self, body: bytes, header_length: int | None) -> tuple[bytes, int | None]:
        request = decode_v2_request(body, self.plan, header_length)
        predictions = self._predict(request.data, request.params)
        return encode_v2_response(
            predictions,
            model_name=self.name,
            model_version=self.version,
            request_id=request.id,
            requested=request.outputs,
            output_names=self._output_names,
            binary=request.binary_outputs,
        )


def error_response(exc: Exception) -> Response:
    """``{"error": ...}`` with the status the same error gets on ``/invocations``."""
    if isinstance(exc, MlserveError):
        return _error(*_status_and_message(exc))
    if isinstance(exc, HTTPException):
        return _error(exc.code or 400, exc.description or "")
    answer = answer_for_unexpected(exc)
    return _error(answer.status, json.loads(answer.body)["message"])


def json_response(document: Any) -> Response:
    """A 200 JSON answer of a V2 route."""
    return Response(json.dumps(document).encode(), content_type=_JSON)


def unknown_model(name: str, served: list[str]) -> Response:
    """The 404 for a model name this server does not serve, listing the ones it does."""
    return _error(404, f"Unknown model {name[:100]!r}; served: {', '.join(served)[:500]}")


class _Unknown(ResourceNotFound):
    def __init__(self, message: str) -> None:
        super().__init__(message)


def _status_and_message(exc: MlserveError) -> tuple[int, str]:
    answer = answer_for_error(exc)
    return answer.status, json.loads(answer.body)["message"]


def _error(status: int, message: str) -> Response:
    return Response(json.dumps({"error": message}).encode(), status=status, content_type=_JSON)

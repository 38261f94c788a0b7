"""The WSGI application serving one model: routes, body limit, deadline and error answers.

``create_app(model)`` does every per-model step once (the request decoder built from the
signature, the ``/metadata`` document, the routing table), so a request only reads its body,
decodes it, predicts and encodes. Nothing is imported on the request path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from mlserve.errors import MissingExtra, MlserveError

try:
    from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
    from werkzeug.wrappers import Request, Response
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("The mlserve REST server", "server", "werkzeug") from exc

from mlserve.codecs import DecodeLimits
from mlserve.server import _tracing as tracing
from mlserve.server import _v2 as v2
from mlserve.server._answers import JSON, allow, error_response, metrics_response, ok_json
from mlserve.server._body import BodyTimeout, read_body
from mlserve.server._concurrency import prediction_pool
from mlserve.server._described import Described
from mlserve.server._errors import (
    answer_for_error,
    answer_for_http,
    answer_for_unexpected,
)
from mlserve.server._memory import IdleTrimmer
from mlserve.server._metadata import metadata_document, version_document
from mlserve.server._metrics import metrics_or_none
from mlserve.server._model_limits import ModelLimits, measure_load
from mlserve.server._repository import Repository
from mlserve.server._routes import ROUTE_LIST, count_labels, note_route, url_map
from mlserve.server._scoring import score, score_timed
from mlserve.server._served import ServedModel, UnknownModel, named_models, serve_model
from mlserve.server._v2_dispatch import V2Dispatch

if TYPE_CHECKING:
    from typing import Unpack  # Python 3.11; annotations only, so 3.10 runs this module too

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from mlserve import PyFuncModel
    from mlserve.server._batching import AdaptiveBatcher
    from mlserve.server._metrics import ServerMetrics

__all__ = ["DEFAULT_MAX_BODY_SIZE", "DEFAULT_TIMEOUT", "AppOptions", "ScoringApp", "create_app"]

logger = logging.getLogger("mlserve.server")

DEFAULT_MAX_BODY_SIZE = 100 * 1024 * 1024
DEFAULT_TIMEOUT = 60.0
DEFAULT_THREADS = 4


# /version's body is the bare version string, as MLflow's (which its ScoringServerClient returns
# as is); it is not JSON, so it is not labelled as JSON
_TEXT = "text/plain; charset=utf-8"


class AppOptions(TypedDict, total=False):
    """The options of :func:`create_app` (and :class:`ScoringApp`), each optional, by keyword.

    This is their one list: an option added here is accepted, type-checked and documented by
    both, and read where it is used.

    Keys:
        max_body_size: largest accepted request body in bytes (default 100 MiB); a larger
            ``Content-Length`` is answered 413 before any of the body is read, and a chunked
            body is cut off there.
        timeout: seconds a request may take from the moment the server hands it to the
            application until its answer is ready (reading the body, decoding, predicting,
            encoding; default 60); past it the client gets 504 and the prediction, which Python
            cannot interrupt, finishes in the background. ``None`` or ``0`` disables the
            deadline and predicts on the request thread.
        threads: how many predictions may run at once in this process (default 4; set it to the
            server's request threads); it also bounds how many timed-out predictions can still
            be running in the background.
        max_batch_size: when above 0 (the default is 0) and the model declares row-wise
            batchable predictions, concurrent requests are merged into predict calls of up to
            this many rows.
        max_batch_delay_ms: how long a batch may wait for more requests (default 0: never wait).
        name, version: the model's name and version on the V2 routes (default: from the URI
            it was loaded from, see :func:`mlserve.server._v2.model_identity`).
        limits: the columns and rows one request may carry and the memory decoding it may take
            (:class:`~mlserve.codecs.DecodeLimits`; default 10,000 columns or the signature's
            count, 1,000,000 rows and 512 MiB): past them, 413.
        repository, loader: with both, the V2 repository extension loads (``loader(uri)``) and
            unloads models while serving, every process that shares the ``repository`` state
            file following (:mod:`mlserve.server._repository`); without, the models are fixed.
        model_limits: the most models and model memory held (``--max-models``,
            ``--max-memory``); a repository load past them unloads the least recently used.
        model_memory: what loading each model took, in bytes, in the order given (see
            :func:`mlserve.server._model_limits.measure_load`; loads through the repository
            extension are measured here).
        metrics: count and time requests for ``GET /metrics`` (default ``True``;
            :mod:`mlserve.server._metrics`; needs the ``metrics`` extra, without which
            ``/metrics`` says so and nothing else changes); ``False`` turns that off. Every
            answer carries an ``X-Request-ID`` (:mod:`mlserve.server._tracing`) either way.
    """

    max_body_size: int
    timeout: float | None
    threads: int
    max_batch_size: int
    max_batch_delay_ms: float
    name: str | None
    version: str | None
    limits: DecodeLimits | None
    repository: Path | None
    loader: Callable[[str], PyFuncModel] | None
    model_limits: ModelLimits | None
    model_memory: Sequence[int | None]
    metrics: bool


def create_app(
    model: PyFuncModel | Mapping[str, PyFuncModel], **options: Unpack[AppOptions]
) -> ScoringApp:
    """Build the WSGI application that serves ``model``.

    Parameters:
        model: the loaded model (``mlserve.load_model(uri)``), or several by name (the first
            answers ``/invocations`` and ``/metadata``; each has ``/models/{name}/invocations``
            and its V2 routes).
        options: by keyword, any of :class:`AppOptions` (the body size, deadline, threads,
            batching, names, limits, repository extension and metrics), each described there
            with its default.

    Raises:
        MissingExtra: werkzeug (the ``server`` extra) is not installed.
        ValueError: a limit is out of range.
        TypeError: an option that is not one of :class:`AppOptions`.
    """
    return ScoringApp(model, **options)


class ScoringApp:
    """A WSGI application serving one model, or several; build it with :func:`create_app`.

    The routes are ``GET /ping``, ``GET /health``, ``GET /version``, ``GET /metadata`` and
    ``POST /invocations`` (the first model), ``POST /models/{name}/invocations`` (any model), and
    the V2 routes of every model (:mod:`mlserve.server._v2`). Every error is answered as
    ``{"error_code": ..., "message": ...}`` (``{"error": ...}`` on V2) with the status of
    :mod:`mlserve.server._errors`.
    """

    def __init__(
        self, model: PyFuncModel | Mapping[str, PyFuncModel], **options: Unpack[AppOptions]
    ) -> None:
        unknown = sorted(options.keys() - AppOptions.__optional_keys__)
        if unknown:  # as a misspelt keyword fails a function with named parameters
            raise TypeError(f"create_app() got an unexpected keyword argument {unknown[0]!r}")
        max_body_size = options.get("max_body_size", DEFAULT_MAX_BODY_SIZE)
        timeout = options.get("timeout", DEFAULT_TIMEOUT)
        if max_body_size < 0:
            raise ValueError("max_body_size must be >= 0")
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be >= 0 (0 disables it)")
        self.max_body_size = max_body_size
        self.timeout = timeout or None
        # where requests decode, predict and encode, under the deadline (concurrency.py)
        self._pool = prediction_pool(options.get("threads", DEFAULT_THREADS), self.timeout)
        metrics = options.get("metrics", True)
        #: the Prometheus metrics, or None (off, or prometheus_client missing: see /metrics)
        self.metrics: ServerMetrics | None = metrics_or_none(metrics)
        self._metrics_wanted = metrics

        def serve(
            loaded: PyFuncModel, served_name: str, served_version: str | None, size: int | None
        ) -> ServedModel:
            metrics = self.metrics
            return serve_model(
                loaded,
                served_name,
                served_version,
                self._pool,
                limits=options.get("limits"),
                max_batch_size=options.get("max_batch_size", 0),
                max_batch_delay_ms=options.get("max_batch_delay_ms", 0.0),
                memory=size,
                stages=None if metrics is None else metrics.model(served_name, served_version),
            )

        initial: dict[str, ServedModel] = {}
        sizes = list(options.get("model_memory", ()))
        named = named_models(model, options.get("name"), options.get("version"))
        for i, (served_name, served_version, served) in enumerate(named):
            if served_name in initial:
                raise ValueError(f"two models are named {served_name!r}")
            size = sizes[i] if i < len(sizes) else None
            initial[served_name] = serve(served, served_name, served_version, size)
        if not initial:
            raise ValueError("no model to serve")
        build: Callable[[str, str], ServedModel] | None = None
        repository = options.get("repository")
        load = options.get("loader")
        if load is not None and repository is not None:

            def build(new_name: str, uri: str) -> ServedModel:
                loaded, size = measure_load(lambda: load(uri))
                return serve(loaded, new_name, v2.model_identity(uri)[1], size)

        uris = {n: str(getattr(s.model, "model_uri", "") or "") for n, s in initial.items()}
        #: the served models by name, kept in step across workers (repository.py)
        self.repository = Repository(initial, uris, build, repository, options.get("model_limits"))
        self._default_name = next(iter(initial))
        default = initial[self._default_name]
        #: the first model, its batcher and its V2 routes (what /invocations serves)
        self.model = default.model
        #: the AdaptiveBatcher merging concurrent requests, or None when batching is off
        self.batcher: AdaptiveBatcher | None = default.batcher
        self.v2 = default.v2
        #: gives memory back once the worker pauses after large requests (see memory.py)
        self.trimmer = IdleTrimmer()
        extensions = ["binary_tensor_data"] + (["model_repository"] if build is not None else [])
        self._v2 = V2Dispatch(
            repository=self.repository,
            default=default.v2,
            server_document={
                "name": "mlserve",
                "version": _mlserve_version(),
                "extensions": extensions,
            },
            pool=self._pool,
            trimmer=self.trimmer,
            timeout=self.timeout,
            max_body_size=max_body_size,
        )
        self._documents = {
            # MLflow's bare newline; labelled text/plain as /version is, since it is not JSON
            "ping": (b"\n", _TEXT),
            "health": (b"\n", _TEXT),
            "version": (version_document(), _TEXT),
            "metadata": (metadata_document(default.model), JSON),
        }
        #: /openapi.json and the model page, rebuilt when the served models change
        self.described = Described(
            lambda: list(self.models.values()), _mlserve_version(), repository=build is not None
        )
        self._urls = url_map()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve one WSGI request; its answer carries its ``X-Request-ID`` (tracing.py), and
        with metrics on it is counted and timed."""
        request_id = tracing.request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        environ[tracing.ENVIRON_KEY] = request_id
        token = tracing.set_current(request_id)
        statuses: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            headers.append((tracing.HEADER, request_id))
            return start_response(status, headers, exc_info)

        metrics = self.metrics
        if metrics is None:
            try:
                return self._serve(environ, start)
            finally:
                tracing.reset_current(token)
        started = time.perf_counter()
        metrics.in_flight.inc()
        try:
            return self._serve(environ, start)
        finally:
            tracing.reset_current(token)
            self._count(metrics, environ, statuses, time.perf_counter() - started)

    def _count(
        self, metrics: ServerMetrics, environ: WSGIEnvironment, statuses: list[str], took: float
    ) -> None:
        """Count an answered request (under the labels of mlserve.server._routes)."""
        model, version, route = count_labels(environ, self.models, self._default_name)
        code = int(statuses[-1][:3]) if statuses else 500
        metrics.done(model, version, route, code, took)

    def _serve(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            adapter = self._urls.bind_to_environ(environ)
            rule, values = adapter.match(return_rule=True)
            endpoint = rule.endpoint
            note_route(environ, rule, values)
            if request.method == "OPTIONS":
                response = Response(
                    status=204, headers=[("Allow", allow(adapter.allowed_methods()))]
                )
                del response.headers["Content-Type"]  # no body, so no media type
            elif endpoint.startswith("v2_"):
                answered = self._v2.answer(request, endpoint, values)
                if isinstance(answered, v2.Answer):
                    body, media_type, headers = answered
                    return ok_json(body, environ, start_response, media_type, headers)
                response = answered
            elif endpoint == "metrics":
                response = metrics_response(self.metrics, self._metrics_wanted)
            elif endpoint in ("invocations", "model_invocations"):
                answer = self._invocations(request, self._model_named(values.get("name")))
                if isinstance(answer, Response):
                    response = answer
                else:
                    return ok_json(answer, environ, start_response)
            elif endpoint in ("openapi", "model_page"):
                response = self.described.response(endpoint)
            else:
                body, media_type = self._documents[endpoint]
                return ok_json(body, environ, start_response, media_type)
        except MlserveError as exc:
            response = error_response(answer_for_error(exc))
        except NotFound:
            response = error_response(
                answer_for_http(404, f"No such endpoint. Endpoints: {ROUTE_LIST}.")
            )
        except MethodNotAllowed as exc:
            allowed = allow(exc.valid_methods or ())
            message = f"Method not allowed on this endpoint; allowed: {allowed}."
            response = error_response(answer_for_http(405, message, [("Allow", allowed)]))
        except HTTPException as exc:
            response = error_response(answer_for_http(exc.code or 400, exc.description or ""))
        except Exception as exc:
            response = error_response(answer_for_unexpected(exc))
        return response(environ, start_response)

    @property
    def models(self) -> dict[str, ServedModel]:
        """The models served now, by name (the first one given answers ``/invocations``)."""
        return self.repository.models()

    def _model_named(self, name: str | None) -> ServedModel:
        """The model called ``name`` (``None``: the first); ``ResourceNotFound`` listing the
        served names for any other."""
        served = self.models.get(self._default_name if name is None else name)
        if served is None:
            raise UnknownModel((name or self._default_name)[:100], list(self.models))
        return served

    def _invocations(self, request: Request, served: ServedModel) -> bytes | Response:
        """The predictions as a JSON body, or an error response."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        content_type = request.headers.get("Content-Type")
        stages = None if self.metrics is None else self.metrics.model(served.name, served.version)
        started = time.perf_counter()
        try:
            body = read_body(request.environ, self.max_body_size)
        except BodyTimeout:
            within = f"within {self.timeout:g} s" if self.timeout else "in time"
            return error_response(
                answer_for_http(408, f"The request body did not arrive {within}.")
            )
        self.trimmer.started(len(body))
        try:
            if stages is None:
                payload = self._pool.run(score, served, body, content_type, deadline=deadline)
            else:
                read = time.perf_counter()
                payload = self._pool.run(
                    score_timed,
                    served,
                    body,
                    content_type,
                    stages,
                    read - started,
                    read,
                    deadline=deadline,
                )
        finally:
            self.trimmer.finished()
        return payload

    def close(self) -> None:
        """Release the prediction threads (and the batcher). The app must not be used after."""
        self._pool.close()
        for served in self.models.values():
            if served.batcher is not None:
                served.batcher.close()


def _mlserve_version() -> str:
    import mlserve

    return mlserve.__version__

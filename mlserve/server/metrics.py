"""The server's Prometheus metrics: what is counted and timed, and the ``/metrics`` answer.

Every name, type and label is listed in ``docs/serving.md`` (Operations). The values are kept by
``prometheus_client`` (the ``metrics`` extra). Under the production runner they live in the
server's metrics directory (:mod:`mlserve.server.metrics_files`), so a scrape answered by any
worker sums every worker, live or dead; an app built with :func:`~mlserve.server.create_app`
and served some other way keeps them in its own process.

The request path pays for a few dictionary look-ups and, per histogram observation, two
writes to a memory-mapped file: the labelled children are looked up once per label set and
kept (:class:`ModelMetrics`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlserve.errors import MissingExtra

__all__ = [
    "LATENCY_BUCKETS",
    "ROW_BUCKETS",
    "STAGES",
    "ModelMetrics",
    "ServerMetrics",
    "WorkerMetrics",
    "count_rows",
    "metrics_or_none",
    "missing_extra",
]

#: seconds; from 50 µs (a 1-row request's stages take tens of µs) to the default 60 s timeout
LATENCY_BUCKETS = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
#: rows per request or per batch
ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536, 262144, 1048576)
#: the stages of a prediction request, in the order they happen (``batch_queue`` only with
#: batching on; ``enforce`` and ``predict`` once per predict call, so once per batch)
STAGES = ("read_body", "queue", "decode", "batch_queue", "enforce", "predict", "encode")

_MISSING = MissingExtra("Metrics (GET /metrics)", "metrics", "prometheus_client")


def metrics_or_none(enabled: bool = True) -> ServerMetrics | None:
    """A :class:`ServerMetrics`, or ``None`` when metrics are off or ``prometheus_client`` is
    not installed (``/metrics`` then says which)."""
    if not enabled:
        return None
    try:
        return ServerMetrics()
    except MissingExtra:
        return None


def count_rows(data: Any) -> int:
    """Rows in a decoded request: a frame's or array's length, a dict of columns' first."""
    if isinstance(data, dict):
        data = next(iter(data.values()), ())
    try:
        return len(data)
    except TypeError:  # a scalar
        return 1


def missing_extra() -> MissingExtra:
    """The error ``/metrics`` answers with when ``prometheus_client`` is not installed."""
    return _MISSING


def _multiprocess_dir() -> Path | None:
    """The metrics directory when ``prometheus_client`` writes values to files, else None."""
    from prometheus_client import values

    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path and getattr(values.ValueClass, "_multiprocess", False) and os.path.isdir(path):
        return Path(path)
    return None


class ModelMetrics:
    """The labelled metric children of one served model (looked up once, then kept).

    Each request stage attribute (``read_body``, ``queue``, ``decode``, ``enforce``,
    ``predict``, ``encode``) is the ``observe`` of its histogram child, in seconds; ``rows``
    observes a request's rows. The batcher reports through :meth:`batch_size`,
    :meth:`batch_queue` and :meth:`queued_rows`
    (:class:`~mlserve.server.batching.BatchObserver`), whose series exist once batching ran.
    """

    __slots__ = (
        *(stage for stage in STAGES if stage != "batch_queue"),
        "_batch",
        "_labels",
        "_server",
        "rows",
    )

    read_body: Callable[[float], None]
    queue: Callable[[float], None]
    decode: Callable[[float], None]
    enforce: Callable[[float], None]
    predict: Callable[[float], None]
    encode: Callable[[float], None]
    rows: Callable[[float], None]

    def __init__(self, server: ServerMetrics, name: str, version: str) -> None:
        for stage in STAGES:
            if stage != "batch_queue":
                setattr(self, stage, server.stages.labels(name, version, stage).observe)
        self.rows = server.rows.labels(name, version).observe
        self._server = server
        self._labels = (name, version)
        self._batch: tuple[Any, Any, Any] | None = None

    def _batch_children(self) -> tuple[Any, Any, Any]:
        if self._batch is None:
            server, labels = self._server, self._labels
            self._batch = (
                server.batch_size.labels(*labels),
                server.stages.labels(*labels, "batch_queue"),
                server.queued_rows.labels(*labels),
            )
        return self._batch

    def batch_size(self, rows: float) -> None:
        """Rows in one merged predict call."""
        self._batch_children()[0].observe(rows)

    def batch_queue(self, seconds: float) -> None:
        """How long one request waited in the batch queue."""
        self._batch_children()[1].observe(seconds)

    def queued_rows(self, rows: float) -> None:
        """Rows waiting in the batch queue now."""
        self._batch_children()[2].set(rows)


class ServerMetrics:
    """Every metric of a server process, in a registry of its own.

    Raises :class:`~mlserve.errors.MissingExtra` without ``prometheus_client``.
    """

    def __init__(self) -> None:
        try:
            from prometheus_client import (
                CONTENT_TYPE_LATEST,
                CollectorRegistry,
                Counter,
                Gauge,
                Histogram,
            )
        except ImportError as exc:
            raise _MISSING from exc
        registry = self.registry = CollectorRegistry(auto_describe=False)
        model = ("model", "version")
        self.requests = Counter(
            "mlserve_requests", "Requests answered, by model, route and HTTP status code.",
            [*model, "route", "code"], registry=registry,
        )  # fmt: skip
        self.duration = Histogram(
            "mlserve_request_duration_seconds",
            "Time from the request reaching the application to its answer being ready.",
            [*model, "route"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.stages = Histogram(
            "mlserve_stage_duration_seconds",
            "Time spent in one stage of a prediction request: read_body, queue (waiting for a "
            "prediction thread, or for a batch), decode, enforce (the signature), predict, "
            "encode.",
            [*model, "stage"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.rows = Histogram(
            "mlserve_request_rows", "Rows in one prediction request.",
            model, buckets=ROW_BUCKETS, registry=registry,
        )  # fmt: skip
        self.batch_size = Histogram(
            "mlserve_batch_size_rows", "Rows in one predict call of the batcher (batching on).",
            model, buckets=ROW_BUCKETS, registry=registry,
        )  # fmt: skip
        self.queued_rows = Gauge(
            "mlserve_batch_queue_rows", "Rows waiting in the batch queue (batching on).",
            model, multiprocess_mode="livesum", registry=registry,
        )  # fmt: skip
        self.in_flight = Gauge(
            "mlserve_requests_in_flight", "Requests being served now.",
            multiprocess_mode="livesum", registry=registry,
        )  # fmt: skip
        self.load_seconds = Gauge(
            "mlserve_model_load_seconds", "Seconds loading the model took.",
            model, multiprocess_mode="livemax", registry=registry,
        )  # fmt: skip
        self.memory = Gauge(
            "mlserve_model_memory_bytes",
            "Bytes the loading process's resident memory grew by while loading the model.",
            model, multiprocess_mode="livemax", registry=registry,
        )  # fmt: skip
        self.restarts = WorkerMetrics(registry).restarts
        #: the media type of :meth:`scrape`'s answer
        self.content_type: str = CONTENT_TYPE_LATEST
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str], ModelMetrics] = {}
        self._done: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}

    def model(self, name: str, version: str | None) -> ModelMetrics:
        """The metric children of the model ``name`` (``version`` or none)."""
        key = (name, version or "")
        found = self._models.get(key)
        if found is None:
            with self._lock:
                found = self._models.setdefault(key, ModelMetrics(self, *key))
        return found

    def answered(
        self, model: str, version: str | None, route: str, code: int, seconds: float
    ) -> None:
        """Count one answered request and time it."""
        key = (model, version or "", route, code)
        children = self._done.get(key)
        if children is None:
            children = (
                self.requests.labels(model, version or "", route, str(code)),
                self.duration.labels(model, version or "", route),
            )
            with self._lock:
                self._done[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def model_loaded(
        self, name: str, version: str | None, seconds: float, memory: int | None
    ) -> None:
        """Record how long loading a model took, and what memory it took (when measured)."""
        self.load_seconds.labels(name, version or "").set(seconds)
        if memory is not None:
            self.memory.labels(name, version or "").set(memory)

    def scrape(self) -> bytes:
        """The Prometheus text format: every process's values when they are kept in files
        (see :mod:`mlserve.server.metrics_files`), else this process's."""
        from prometheus_client import generate_latest

        path = _multiprocess_dir()
        if path is not None:
            from mlserve.server.metrics_files import scrape

            return scrape(path)
        return generate_latest(self.registry)


class WorkerMetrics:
    """What the server's parent counts: workers that exited and were replaced."""

    def __init__(self, registry: Any = None) -> None:
        from prometheus_client import CollectorRegistry, Counter

        self.restarts = Counter(
            "mlserve_worker_restarts",
            "Worker processes that exited while the server was running (each is replaced).",
            registry=registry if registry is not None else CollectorRegistry(),
        )


def metrics_port_only(app: Any, ports: set[str]) -> Any:
    """``app`` behind a gate: a request that came in on one of ``ports`` (``--metrics-port``)
    may only ask for ``GET /metrics``; anything else there is a JSON 404."""
    from mlserve.server.errors import answer_for_http
    from mlserve.server.tracing import ENVIRON_KEY, HEADER, request_id_for

    refusal = answer_for_http(404, "This port serves GET /metrics only.")

    def gated(environ: Any, start_response: Any) -> Any:
        if environ.get("SERVER_PORT") in ports and environ.get("PATH_INFO") != "/metrics":
            request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID"))
            environ[ENVIRON_KEY] = request_id
            length = str(len(refusal.body))
            headers = [*refusal.headers, ("Content-Length", length), (HEADER, request_id)]
            start_response("404 NOT FOUND", headers)
            return [refusal.body]
        return app(environ, start_response)

    return gated

"""The server's Prometheus metrics: what is counted and timed, and the ``/metrics`` answer.

Every name, type and label is listed in ``docs/serving.md`` (Operations); ``prometheus_client``
(the ``metrics`` extra) formats them. Under the production runner every process writes its
values to the server's metrics directory (:mod:`mlserve.server._metrics_files`), so a scrape
answered by any worker sums every worker, live or dead; an app built with
:func:`~mlserve.server.create_app` and served some other way keeps them in its own process, in
``prometheus_client`` metrics.

The request path pays for a few dictionary look-ups and, per histogram observation, one bisect
and two 8-byte stores to a memory-mapped file: the labelled series are looked up once per label
set and kept (:class:`ModelMetrics`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlserve.errors import MissingExtra
from mlserve.server._metrics_files import (
    FileCounter,
    FileGauge,
    FileHistogram,
    ProcessFiles,
    scrape,
    write_together,
)

__all__ = [
    "DIR_ENV",
    "LATENCY_BUCKETS",
    "ROW_BUCKETS",
    "STAGES",
    "ModelMetrics",
    "ServerMetrics",
    "WorkerMetrics",
    "count_rows",
    "metrics_or_none",
    "missing_extra",
    "restart_counter",
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
# the stages ModelMetrics.request records, rows in fourth place
_REQUEST_STAGES = ("read_body", "queue", "decode", "rows", "encode")

#: set by the production runner for every process of a server: its metrics directory
DIR_ENV = "MLSERVE_METRICS_DIR"

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


def _metrics_dir() -> Path | None:
    """The production server's metrics directory (set by the runner), else None."""
    path = os.environ.get(DIR_ENV)
    return Path(path) if path and os.path.isdir(path) else None


class ModelMetrics:
    """The labelled metric children of one served model (looked up once, then kept).

    Each request stage attribute (``read_body``, ``queue``, ``decode``, ``enforce``,
    ``predict``, ``encode``) is the ``observe`` of its histogram child, in seconds; ``rows``
    observes a request's rows. The batcher reports through :meth:`batch_size`,
    :meth:`batch_queue` and :meth:`queued_rows`
    (:class:`~mlserve.server._batching.BatchObserver`), whose series exist once batching ran.
    """

    __slots__ = (
        *(stage for stage in STAGES if stage != "batch_queue"),
        "_batch",
        "_files",
        "_labels",
        "_request_series",
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
        #: what :meth:`request` records, in its arguments' order
        self._request_series = (
            *(server.stages.labels(name, version, stage) for stage in _REQUEST_STAGES[:3]),
            server.rows.labels(name, version),
            server.stages.labels(name, version, _REQUEST_STAGES[4]),
        )
        self._files = server.files
        self._server = server
        self._labels = (name, version)
        self._batch: tuple[Any, Any, Any] | None = None

    def request(
        self,
        read_body: float | None,
        queue: float | None,
        decode: float | None,
        rows: float | None,
        encode: float | None,
    ) -> None:
        """What one prediction request went through (``None``: it did not get there), at once:
        one lock for the lot where values go to files."""
        writes = [
            (series, value)
            for series, value in zip(
                self._request_series, (read_body, queue, decode, rows, encode), strict=True
            )
            if value is not None
        ]
        if self._files is not None:
            write_together(self._files, writes)
        else:
            for series, value in writes:
                series.observe(value)

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


class _Family:
    """One metric family: its series by label values, kept in this process (a
    ``prometheus_client`` metric) or in the server's metrics directory (metrics_files.py)."""

    def __init__(
        self,
        kind: str,
        name: str,
        help_text: str,
        labelnames: tuple[str, ...] = (),
        *,
        registry: Any,
        files: ProcessFiles | None,
        buckets: tuple[float, ...] = (),
        mode: str = "",
    ) -> None:
        self._kind, self._name, self._help, self._labelnames = kind, name, help_text, labelnames
        self._files, self._buckets, self._mode = files, buckets, mode
        self._lock = threading.Lock()
        self._series: dict[tuple[str, ...], Any] = {}
        self._metric: Any = None
        if files is None:
            import prometheus_client

            options: dict[str, Any] = {"buckets": buckets} if buckets else {}
            cls = getattr(prometheus_client, kind.capitalize())
            self._metric = cls(name, help_text, labelnames, registry=registry, **options)

    def labels(self, *values: str) -> Any:
        """The series for ``values`` (in label-name order): ``inc``/``dec``/``set``/``observe``."""
        found = self._series.get(values)
        if found is None:
            with self._lock:
                found = self._series.get(values)
                if found is None:
                    found = self._series[values] = self._make(values)
        return found

    def _make(self, values: tuple[str, ...]) -> Any:
        if self._files is None:
            return self._metric.labels(*values) if values else self._metric
        labels = dict(zip(self._labelnames, values, strict=True))
        if self._kind == "counter":
            return self._files.series(FileCounter, self._name, self._help, labels)
        if self._kind == "gauge":
            return self._files.series(FileGauge, self._name, self._help, labels, self._mode)
        return self._files.series(FileHistogram, self._name, self._help, labels, self._buckets)


class ServerMetrics:
    """Every metric of a server process.

    In the production runner's processes (``MLSERVE_METRICS_DIR`` set) the values go to the
    server's metrics directory and a scrape reads every process's; otherwise they stay in this
    object's own registry. Raises :class:`~mlserve.errors.MissingExtra` without
    ``prometheus_client``.
    """

    def __init__(self) -> None:
        try:
            from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
        except ImportError as exc:
            raise _MISSING from exc
        #: the metrics directory (a production server), or None (values in this process)
        self.directory = _metrics_dir()
        files = None if self.directory is None else ProcessFiles.of(self.directory)
        #: this process's files in the directory (None: values kept in this process)
        self.files = files
        registry = self.registry = CollectorRegistry(auto_describe=False)

        def family(kind: str, name: str, help_text: str, *labels: str, **options: Any) -> _Family:
            return _Family(kind, name, help_text, labels, registry=registry, files=files, **options)

        model = ("model", "version")
        self.requests = family(
            "counter", "mlserve_requests", "Requests answered, by model, route and HTTP status.",
            *model, "route", "code",
        )  # fmt: skip
        self.duration = family(
            "histogram", "mlserve_request_duration_seconds",
            "Time from the request reaching the application to its answer being ready.",
            *model, "route", buckets=LATENCY_BUCKETS,
        )  # fmt: skip
        self.stages = family(
            "histogram", "mlserve_stage_duration_seconds",
            "Time spent in one stage of a prediction request: read_body, queue (waiting for a "
            "prediction thread), decode, batch_queue (waiting for a batch), enforce (the "
            "signature), predict, encode.",
            *model, "stage", buckets=LATENCY_BUCKETS,
        )  # fmt: skip
        self.rows = family(
            "histogram", "mlserve_request_rows", "Rows in one prediction request.",
            *model, buckets=ROW_BUCKETS,
        )  # fmt: skip
        self.batch_size = family(
            "histogram", "mlserve_batch_size_rows",
            "Rows in one predict call of the batcher (batching on).", *model, buckets=ROW_BUCKETS,
        )  # fmt: skip
        self.queued_rows = family(
            "gauge", "mlserve_batch_queue_rows", "Rows waiting in the batch queue (batching on).",
            *model, mode="livesum",
        )  # fmt: skip
        self.in_flight = family(
            "gauge", "mlserve_requests_in_flight", "Requests being served now.", mode="livesum"
        ).labels()
        self.load_seconds = family(
            "gauge", "mlserve_model_load_seconds", "Seconds loading the model took.",
            *model, mode="livemax",
        )  # fmt: skip
        self.memory = family(
            "gauge", "mlserve_model_memory_bytes",
            "Bytes the loading process's resident memory grew by while loading the model.",
            *model, mode="livemax",
        )  # fmt: skip
        self.restarts = family("counter", *_RESTARTS).labels()
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

    def _children(self, model: str, version: str | None, route: str, code: int) -> Any:
        """The request counter and duration histogram of one label set, made once."""
        key = (model, version or "", route, code)
        children = self._done.get(key)
        if children is None:
            children = (
                self.requests.labels(model, version or "", route, str(code)),
                self.duration.labels(model, version or "", route),
            )
            with self._lock:
                self._done[key] = children
        return children

    def answered(
        self, model: str, version: str | None, route: str, code: int, seconds: float
    ) -> None:
        """Count one answered request and time it."""
        children = self._children(model, version, route, code)
        children[0].inc()
        children[1].observe(seconds)

    def done(self, model: str, version: str | None, route: str, code: int, seconds: float) -> None:
        """A request that was in flight is answered: count and time it, in one write."""
        children = self._children(model, version, route, code)
        if self.files is not None:
            write_together(
                self.files, ((children[0], 1.0), (children[1], seconds), (self.in_flight, -1.0))
            )
        else:
            children[0].inc()
            children[1].observe(seconds)
            self.in_flight.dec()

    def model_loaded(
        self, name: str, version: str | None, seconds: float, memory: int | None
    ) -> None:
        """Record how long loading a model took, and what memory it took (when measured)."""
        self.load_seconds.labels(name, version or "").set(seconds)
        if memory is not None:
            self.memory.labels(name, version or "").set(memory)

    def scrape(self) -> bytes:
        """The Prometheus text format: every process's values (a production server's metrics
        directory, see :mod:`mlserve.server._metrics_files`), else this process's."""
        from prometheus_client import generate_latest

        if self.directory is not None:
            return scrape(self.directory)
        return generate_latest(self.registry)


_RESTARTS = (
    "mlserve_worker_restarts",
    "Worker processes that exited while the server was running (each is replaced).",
)


class WorkerMetrics:
    """What the server's parent counts: workers that exited and were replaced (``restarts``,
    in the metrics directory; a counter nobody scrapes outside a production server)."""

    def __init__(self) -> None:
        counter = restart_counter()
        if counter is None:
            from prometheus_client import CollectorRegistry, Counter

            counter = Counter(*_RESTARTS, registry=CollectorRegistry())
        self.restarts = counter


def restart_counter() -> Any:
    """The server parent's count of replaced workers, in the metrics directory (None outside a
    production server or without ``prometheus_client``)."""
    directory = _metrics_dir()
    if directory is None:
        return None
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return None
    return ProcessFiles.of(directory).series(FileCounter, *_RESTARTS, {})

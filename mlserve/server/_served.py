"""What serves one model of a server: its name, decoder, predict callable, batcher, V2 routes.

A server holds one :class:`ServedModel` per ``-m`` (:mod:`mlserve.server._app` routes requests to
them). Each model gets its own decoder (its signature's plan and the request limits) and its own
predict callable, built by the server's concurrency policy (:mod:`mlserve.server._concurrency`:
a lock for a model that is not thread-safe, batching where asked and declared). The prediction
threads and the deadline are the server's, shared by all models.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlserve.codecs import DecodeLimits, RequestDecoder
from mlserve.errors import ResourceNotFound
from mlserve.server import _v2 as v2
from mlserve.server._concurrency import predict_callable
from mlserve.server._deadline import DeadlinePool
from mlserve.server._model_limits import Usage

if TYPE_CHECKING:
    from mlserve import PyFuncModel
    from mlserve.server._batching import AdaptiveBatcher
    from mlserve.server._metrics import ModelMetrics

__all__ = ["ServedModel", "UnknownModel", "named_models", "serve_model"]

logger = logging.getLogger("mlserve.server")


@dataclass(frozen=True)
class ServedModel:
    """One model of a server: its V2 name and version, and what serves its requests."""

    name: str
    version: str | None
    model: PyFuncModel
    decoder: RequestDecoder
    predict: Callable[[Any, dict | None], Any]
    batcher: AdaptiveBatcher | None
    v2: v2.V2Routes
    #: bytes the process grew by while loading the model (model_limits.py), None if unmeasured
    memory: int | None = None
    #: when it last predicted and how many predictions are running (for --max-models' LRU)
    usage: Usage = field(default_factory=Usage)


def serve_model(
    model: PyFuncModel,
    name: str,
    version: str | None,
    pool: DeadlinePool,
    *,
    limits: DecodeLimits | None,
    max_batch_size: int,
    max_batch_delay_ms: float,
    stages: ModelMetrics | None = None,
    memory: int | None = None,
) -> ServedModel:
    """Everything that serves ``model`` under ``name`` on ``pool``'s prediction threads;
    ``memory`` is what loading it took (reported in its V2 metadata and the repository index)."""
    signature = model.signature
    decoder = RequestDecoder(
        signature.inputs if signature is not None else None,
        signature.params if signature is not None else None,
        enforce=False,  # PyFuncModel.predict enforces the signature, once
        limits=limits,
    )
    # the lock, the batcher, the deadline's give-up: the policy is concurrency.py's
    predict, batcher = predict_callable(
        model,
        pool,
        max_batch_size=max_batch_size,
        max_batch_delay_ms=max_batch_delay_ms,
        # with metrics on, the signature's enforcement and the model's own predict are timed
        # apart (once per predict call: per batch when batching)
        call=None if stages is None else _timed(model, stages),
        observer=stages,
    )
    usage = Usage()
    predict = usage.track(predict)
    parameters = {"memory_bytes": memory} if memory is not None else None
    routes = v2.V2Routes(model, name, version, decoder.plan, predict, parameters=parameters)
    return ServedModel(name, version, model, decoder, predict, batcher, routes, memory, usage)


class UnknownModel(ResourceNotFound):
    """A request for a model name the server does not serve; the message lists the served."""

    def __init__(self, name: str, served: list[str]) -> None:
        super().__init__(f"No model named {name!r} is served here. Models: {', '.join(served)}.")


def named_models(
    model: PyFuncModel | Mapping[str, PyFuncModel], name: str | None, version: str | None
) -> list[tuple[str, str | None, PyFuncModel]]:
    """``(name, version, model)`` for each model: a mapping gives the names (versions from the
    URIs), a single model its ``name`` and ``version``, or both from its URI."""
    if isinstance(model, Mapping):
        return [
            (str(n), v2.model_identity(getattr(m, "model_uri", None))[1], m)
            for n, m in model.items()
        ]
    default_name, default_version = v2.model_identity(getattr(model, "model_uri", None))
    return [(name or default_name, version if name is not None else default_version, model)]


def _timed(model: PyFuncModel, stages: ModelMetrics) -> Callable[[Any, dict | None], Any]:
    """``model.predict`` observing its two halves into the ``enforce`` and ``predict`` stages."""
    clock = time.perf_counter

    def predict(data: Any, params: dict | None) -> Any:
        started = clock()
        data, params = model.enforce(data, params)
        enforced = clock()
        stages.enforce(enforced - started)
        try:
            return model.predict_enforced(data, params)
        finally:
            stages.predict(clock() - enforced)

    return predict

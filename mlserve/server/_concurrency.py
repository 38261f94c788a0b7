"""How a request gets a thread, a deadline and the model: the server's concurrency policy.

Every decision about what runs where, and who gives up when, is made here or named here. A
request through one worker (``docs/serving.md`` draws it as a state diagram)::

    connection ── accept ──> reading ── complete ──> request thread ──> prediction ──> answered
                (free thread)  (event loop, no thread)   (--threads)     (see below)

1. **Accept** (:mod:`mlserve.server._worker`): a worker with siblings accepts a new connection
   only while one of its ``--threads`` request threads is free, or once the connection has
   waited ``accept_grace`` without a sibling taking it.
2. **Reading** (:mod:`mlserve.server._reading`, :mod:`mlserve.server._loop_connections`): the
   request line, headers and body are gathered in the worker's event loop, without a thread,
   under :class:`~mlserve.server._reading.ReadPolicy`
   (``--header-timeout``, ``--min-body-rate``, ``--timeout``): too slow a client is
   disconnected, or answered 408 when its body stalls. The policy is built once from the
   options (:func:`mlserve.server._lifecycle.read_policy`) and reaches each worker on the
   gunicorn application object it is forked with, never through a global.
3. **Request thread**: a complete request goes to one of gthread's ``--threads`` threads, which
   reads the body under ``--max-body-size`` and routes it (:mod:`mlserve.server._app`).
4. **Deadline** (:func:`prediction_pool`): with ``--timeout``, decoding, predicting and encoding
   run on the worker's prediction pool (at most ``--threads`` threads) and the request thread
   waits until the deadline, then answers 504 while the prediction finishes in the background;
   ``--timeout 0`` runs them inline on the request thread, saving the hand-off.
5. **The model** (:func:`predict_callable`), from what the model's flavor declares
   (:class:`~mlserve._flavor.Capabilities`) and the server's options:

   =====================  ======================  ================================================
   the flavor declares    the server has          each request's predict call
   =====================  ======================  ================================================
   ``thread_safe``        (any)                   runs at once, on its own thread
   not ``thread_safe``    (any)                   one at a time per worker, under a lock; a
                                                  request whose client got its 504 while it
                                                  waited for the lock gives up instead
   ``batchable``          ``--max-batch-size N``  merged with concurrent requests into calls of
                                                  up to N rows (:mod:`mlserve.server._batching`):
                                                  one waiting request's thread predicts for all,
                                                  through the lock above when there is one
   not ``batchable``      ``--max-batch-size N``  as without batching (said once, in the log)
   ``fork_safe`` false    (any)                   loaded in each worker, not before the fork
                                                  (:mod:`mlserve.server._runner`)
   ``supports_params``    (any)                   false: params are checked against the
                                                  signature, then not passed on
                                                  (:meth:`mlserve.PyFuncModel.predict`)
   =====================  ======================  ================================================

Workers are processes: they predict in parallel whatever a model declares. So at most
``workers x threads`` predictions run at once for a thread-safe model, ``workers`` for one that
is not; and at most ``threads`` abandoned (timed-out) predictions per worker can still be
running, since they hold prediction-pool threads. One flavor serializes inside itself, beyond
what it declares: the scikit-learn forest accelerator predicts fewer than 256 rows one call at
a time (``mlserve/flavors/_sklearn_fast/forest.py``: small concurrent calls only fought over
the GIL).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlserve.errors import RequestTimeout
from mlserve.server._deadline import DeadlinePool

if TYPE_CHECKING:
    from mlserve import PyFuncModel
    from mlserve.server._batching import AdaptiveBatcher, BatchObserver

__all__ = ["PredictFn", "predict_callable", "prediction_pool"]

logger = logging.getLogger("mlserve.server")

PredictFn = Callable[[Any, "dict[str, Any] | None"], Any]


def prediction_pool(threads: int, timeout: float | None) -> DeadlinePool:
    """The worker's prediction threads (at most ``threads``) and its deadline (``timeout``
    seconds; ``None`` or ``0``: no deadline, every call runs inline on the caller's thread)."""
    return DeadlinePool(max(threads, 1), timeout or None)


def predict_callable(
    model: PyFuncModel,
    pool: DeadlinePool,
    *,
    max_batch_size: int = 0,
    max_batch_delay_ms: float = 0.0,
    call: PredictFn | None = None,
    observer: BatchObserver | None = None,
) -> tuple[PredictFn, AdaptiveBatcher | None]:
    """The predict callable every request for ``model`` goes through, and its batcher (or
    ``None``), by the table in this module's docstring.

    ``call`` is what predicts (default ``model.predict``; the server's metrics pass a timed
    one); ``observer`` is told what the batcher does. A request waiting for the lock of a model
    that is not thread-safe checks ``pool.abandoned()`` once it has the lock: a burst of slow
    requests would otherwise keep the lock busy with answers nobody reads, and time out the
    cheap requests behind them.
    """
    capabilities = model.capabilities
    predict: PredictFn = model.predict if call is None else call
    if not capabilities.thread_safe:
        predict = _one_at_a_time(predict, pool)
    if max_batch_size <= 0:
        return predict, None
    if not capabilities.batchable:
        logger.info("Batching is off: the model's flavor does not declare batchable predictions.")
        return predict, None
    from mlserve.server._batching import AdaptiveBatcher  # once, at start-up

    batcher = AdaptiveBatcher(
        predict, max_batch_rows=max_batch_size, max_delay_ms=max_batch_delay_ms, observer=observer
    )
    return batcher.submit, batcher


def _one_at_a_time(predict: PredictFn, pool: DeadlinePool) -> PredictFn:
    """``predict`` under a lock, given up by a request whose client has had its 504."""
    lock = threading.Lock()

    def locked(data: Any, params: dict[str, Any] | None) -> Any:
        with lock:
            if pool.abandoned():
                raise RequestTimeout(pool.timeout or 0.0)
            return predict(data, params)

    return locked

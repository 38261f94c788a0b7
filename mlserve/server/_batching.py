"""Adaptive batching: merge concurrent requests to one worker into one ``predict`` call.

The batcher has no thread of its own. The first caller to find the model idle becomes the
*leader*: it takes its own request plus every compatible request queued behind it (up to
``max_batch_rows`` rows), runs one ``predict`` in its own thread, hands each caller its slice of the
output, then passes leadership to the oldest request still queued. A request that arrives alone is
therefore predicted at once in its own thread, with no hand-off and no wait (unless
``max_delay_ms`` asks the leader to wait for company). While a prediction is in flight, newcomers
queue; that queue is where batches come from, so batches grow exactly as fast as load does.
Which inputs merge, and how a batch's output is cut back, are :mod:`mlserve.server._merging`'s
rules.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mlserve.errors import InvalidParameterValue, ServerBusy
from mlserve.server._merging import concat, merge_key, rows_of, same_params, split

__all__ = ["AdaptiveBatcher", "BatchObserver", "BatcherStats"]

PredictFn = Callable[[Any, "dict[str, Any] | None"], Any]

# How many batches' worth of rows may wait when ``max_queue_rows`` is not given.
_DEFAULT_QUEUE_BATCHES = 16

_WAITING, _LEAD, _DONE = 0, 1, 2


@dataclass(frozen=True)
class BatcherStats:
    """Counters since the batcher was created (for logs and metrics).

    ``requests``: submitted and accepted; ``batches``: ``predict`` calls made for queued requests
    (merged or not); ``merged_requests``: requests answered from a batch of two or more;
    ``retried_requests``: requests re-run alone after their merged batch raised or returned an
    output that could not be split; ``direct_requests``: oversize or unmergeable requests predicted
    on their own outside the queue; ``rejected``: submits refused with ``ServerBusy``.
    """

    requests: int = 0
    batches: int = 0
    merged_requests: int = 0
    retried_requests: int = 0
    direct_requests: int = 0
    rejected: int = 0


class BatchObserver(Protocol):
    """What a batcher reports as it works (the server's metrics, :mod:`mlserve.server._metrics`)."""

    def batch_size(self, rows: float) -> None:
        """Rows in one merged predict call."""

    def batch_queue(self, seconds: float) -> None:
        """How long one request waited in the queue before its batch started."""

    def queued_rows(self, rows: float) -> None:
        """Rows waiting in the queue now."""


class _Pending:
    """One submitted request waiting in (or taken from) the queue."""

    __slots__ = ("_key", "data", "error", "event", "params", "queued_at", "result", "rows", "state")

    def __init__(self, data: Any, params: dict[str, Any] | None, rows: int) -> None:
        self.data = data
        self.params = params
        self.rows = rows
        self.state = _WAITING
        self.event = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self._key: tuple[Any, ...] | None = None
        self.queued_at = time.perf_counter()

    @property
    def key(self) -> tuple[Any, ...]:
        # Computed lazily: a request that is predicted alone never pays for it.
        if self._key is None:
            self._key = merge_key(self.data)
        return self._key


class AdaptiveBatcher:
    """Merge concurrent ``submit`` calls with equal params into one ``predict`` call.

    ``predict(data, params)`` is called with a DataFrame (rows concatenated, default index) or an
    ndarray (concatenated along axis 0). Its output (ndarray, DataFrame, Series, list, or a dict
    of those, as multi-output models return) is split back by each request's row count, in
    submission order; a dict is split value by value, each value by its first dimension.

    Behaviour:

    - A request that finds the model idle is predicted at once in the caller's thread. With
      ``max_delay_ms > 0`` the leader waits up to that long for more rows before predicting.
    - Batches are counted in rows and never exceed ``max_batch_rows``; a request with more rows
      than that (or with zero rows, or an input that is not a default-indexed DataFrame or an
      ndarray) is predicted on its own, directly, without queueing.
    - Only requests with equal params, the same input kind, columns and dtypes are merged.
    - If a merged ``predict`` raises, or returns an output whose row count does not match its
      input (for a dict: any value whose first dimension does not, or an empty dict), each
      request in the batch is re-run alone so each gets its own result or exception.
    - At most ``max_queue_rows`` rows wait (default: 16 batches' worth). A request that would go
      past that raises :class:`~mlserve.errors.ServerBusy` with a ``retry_after`` estimate. A
      request that finds the queue empty is always admitted.

    ``submit`` re-raises whatever ``predict`` raised for that request. After :meth:`close`,
    ``submit`` raises ``ServerBusy``. The constructor raises
    :class:`~mlserve.errors.InvalidParameterValue` for a batch or queue size below 1 or a negative
    delay.

    Serving needs a threaded worker (several requests in flight per process); with one request
    per process at a time there is never anything to merge.
    """

    def __init__(
        self,
        predict: PredictFn,
        *,
        max_batch_rows: int,
        max_delay_ms: float = 0.0,
        max_queue_rows: int | None = None,
        observer: BatchObserver | None = None,
    ) -> None:
        if max_batch_rows < 1:
            raise InvalidParameterValue("max_batch_rows must be at least 1")
        if max_delay_ms < 0:
            raise InvalidParameterValue("max_delay_ms must not be negative")
        if max_queue_rows is not None and max_queue_rows < 1:
            raise InvalidParameterValue("max_queue_rows must be at least 1")
        self._predict = predict
        self._observer = observer
        self.max_batch_rows = max_batch_rows
        self.max_delay_s = max_delay_ms / 1000.0
        self.max_queue_rows = (
            max_queue_rows
            if max_queue_rows is not None
            else _DEFAULT_QUEUE_BATCHES * max_batch_rows
        )
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[_Pending] = deque()
        self._queued_rows = 0
        self._busy = False  # a leader exists (predicting, waiting for company or being woken)
        self._closed = False
        self._batch_seconds = 0.0  # moving average of one batch's predict time, for Retry-After
        self._counts = {name: 0 for name in BatcherStats.__dataclass_fields__}

    # -- public ------------------------------------------------------------------------------

    def submit(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict ``data`` with ``params``, possibly merged with concurrent requests.

        Blocks until this request's output is ready and returns it (the rows belonging to this
        request only). Raises what ``predict`` raised for this request, or ``ServerBusy`` if the
        queue is full or the batcher is closed.
        """
        rows = rows_of(data)
        if rows is None or rows == 0 or rows > self.max_batch_rows:
            with self._cond:
                if self._closed:
                    raise self._reject()
                self._counts["requests"] += 1
                self._counts["direct_requests"] += 1
            return self._predict(data, params)

        pending = _Pending(data, params, rows)
        with self._cond:
            if self._closed:
                raise self._reject()
            if self._queue and self._queued_rows + rows > self.max_queue_rows:
                raise self._reject()
            self._counts["requests"] += 1
            self._queue.append(pending)
            self._queued_rows += rows
            if self._observer is not None:
                self._observer.queued_rows(self._queued_rows)
            if self._busy:
                self._cond.notify()  # a leader waiting for company may now have a full batch
                lead = False
            else:
                self._busy = lead = True
        if not lead:
            pending.event.wait()
            lead = pending.state == _LEAD
        if lead:
            self._lead()
        error, result = pending.error, pending.result
        # raised with this frame in its traceback: a ``pending`` still held here (the request's
        # data, and the error itself) would form a cycle kept until a full collection
        del pending, data
        if error is not None:
            try:
                raise error
            finally:
                del error  # the same cycle, through this local
        return result

    def __call__(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Same as :meth:`submit`, so a batcher can stand in for a ``predict`` callable."""
        return self.submit(data, params)

    def close(self, timeout: float | None = None) -> None:
        """Stop accepting requests and wait (up to ``timeout`` s) for queued ones to finish."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._closed = True
            while self._busy:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return
                self._cond.wait(remaining)

    @property
    def stats(self) -> BatcherStats:
        """A snapshot of the counters."""
        with self._cond:
            return BatcherStats(**self._counts)

    def __enter__(self) -> AdaptiveBatcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- leader ------------------------------------------------------------------------------

    def _reject(self) -> ServerBusy:
        self._counts["rejected"] += 1
        backlog_batches = self._queued_rows / self.max_batch_rows + 1
        return ServerBusy(
            retry_after=float(max(1, math.ceil(backlog_batches * self._batch_seconds)))
        )

    def _take_batch(self) -> list[_Pending]:
        """Take the queue head and the compatible requests behind it (lock held)."""
        head = self._queue.popleft()
        batch, rows = [head], head.rows
        if len(self._queue) and rows < self.max_batch_rows:
            kept: deque[_Pending] = deque()
            for p in self._queue:
                if (
                    rows + p.rows <= self.max_batch_rows
                    and p.key == head.key
                    and same_params(p.params, head.params)
                ):
                    batch.append(p)
                    rows += p.rows
                else:
                    kept.append(p)
            self._queue = kept
        self._queued_rows -= rows
        if self._observer is not None:
            self._observer.queued_rows(self._queued_rows)
        return batch

    def _wait_for_company(self) -> None:
        """With ``max_delay_ms``, let the queue fill up to one batch first (lock held)."""
        deadline = time.monotonic() + self.max_delay_s
        while self._queued_rows < self.max_batch_rows and not self._closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._cond.wait(remaining)

    def _lead(self) -> None:
        """Run one batch (which contains the caller's request), then hand leadership on."""
        with self._cond:
            if self.max_delay_s > 0:
                self._wait_for_company()
            batch = self._take_batch()
        started = time.monotonic()
        if self._observer is not None:
            self._observe(batch)
        try:
            self._run(batch)
        finally:
            # Whatever happened, nobody in the batch may be left waiting.
            for p in batch:
                if p.state != _DONE:
                    p.error = p.error or ServerBusy(retry_after=1.0)
                    p.state = _DONE
                    p.event.set()
            elapsed = time.monotonic() - started
            with self._cond:
                self._batch_seconds = 0.8 * self._batch_seconds + 0.2 * elapsed
                self._counts["batches"] += 1
                if len(batch) > 1:
                    self._counts["merged_requests"] += len(batch)
                if self._queue:
                    successor = self._queue[0]
                    successor.state = _LEAD
                    successor.event.set()
                else:
                    self._busy = False
                    self._cond.notify_all()  # close() may be waiting for the drain

    def _observe(self, batch: list[_Pending]) -> None:
        assert self._observer is not None
        now = time.perf_counter()
        for p in batch:
            self._observer.batch_queue(now - p.queued_at)
        self._observer.batch_size(sum(p.rows for p in batch))

    def _run(self, batch: list[_Pending]) -> None:
        """Predict a batch and deliver each request's output or exception."""
        if len(batch) == 1:
            self._run_alone(batch[0])
            return
        try:
            output = self._predict(concat([p.data for p in batch]), batch[0].params)
            parts = split(output, [p.rows for p in batch])
        except Exception:
            # One bad request must not fail its neighbours: find out whose it is.
            parts = None
        if parts is None:
            with self._cond:
                self._counts["retried_requests"] += len(batch)
            for p in batch:
                self._run_alone(p)
            return
        for p, part in zip(batch, parts, strict=True):
            p.result = part
            p.state = _DONE
            p.event.set()

    def _run_alone(self, p: _Pending) -> None:
        try:
            p.result = self._predict(p.data, p.params)
        except Exception as exc:
            p.error = exc
        p.state = _DONE
        p.event.set()

"""The concurrency policy (mlserve/server/_concurrency.py), one test per row of its table, on
real saved models: the seed RandomForest (thread-safe, batchable) and the sleepy
python_function model (neither)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mlserve
from mlserve.errors import RequestTimeout
from mlserve.server._batching import AdaptiveBatcher
from mlserve.server._concurrency import predict_callable, prediction_pool


@pytest.fixture(scope="module")
def forest(seed_model_dir: Path) -> mlserve.PyFuncModel:
    return mlserve.load_model(seed_model_dir)


@pytest.fixture(scope="module")
def sleepy(sleepy_model_dir: Path) -> mlserve.PyFuncModel:
    return mlserve.load_model(sleepy_model_dir)


class Counting:
    """Wraps a model's predict: counts the calls and the most running at once."""

    def __init__(self, model: mlserve.PyFuncModel) -> None:
        self.model = model
        self.calls = 0
        self.running = 0
        self.most = 0
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, data: Any, params: dict | None) -> Any:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
        try:
            return self.model.predict(data, params)
        finally:
            with self._lock:
                self.running -= 1


def _together(predict: Any, inputs: list[Any]) -> list[Any]:
    """Call ``predict`` on each input from its own thread, all at once; the results (or the
    exceptions) in order."""
    results: list[Any] = [None] * len(inputs)

    def one(i: int) -> None:
        try:
            results[i] = predict(inputs[i], None)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def test_a_thread_safe_model_predicts_concurrently_without_a_lock(
    forest: mlserve.PyFuncModel, sleepy: mlserve.PyFuncModel
) -> None:
    predict, batcher = predict_callable(forest, prediction_pool(4, None))
    assert batcher is None
    assert predict == forest.predict  # the model's own method: nothing in between
    slow = Counting(sleepy)
    # the same policy with a thread-safe declaration: the calls overlap
    unlocked, _ = predict_callable(forest, prediction_pool(4, None), call=slow)
    started = time.monotonic()
    _together(unlocked, [np.array([[0.3, 0, 0, 0]])] * 3)
    assert slow.most == 3 and time.monotonic() - started < 0.8


def test_a_model_that_is_not_thread_safe_predicts_one_at_a_time(
    sleepy: mlserve.PyFuncModel,
) -> None:
    assert not sleepy.capabilities.thread_safe
    counting = Counting(sleepy)
    predict, batcher = predict_callable(sleepy, prediction_pool(4, None), call=counting)
    assert batcher is None
    started = time.monotonic()
    results = _together(predict, [np.array([[0.2, 0, 0, 0]])] * 3)
    assert all(isinstance(r, np.ndarray) for r in results)
    assert counting.most == 1 and time.monotonic() - started >= 0.6


def test_a_request_whose_client_timed_out_waiting_for_the_lock_does_not_predict(
    sleepy: mlserve.PyFuncModel,
) -> None:
    """Three requests with a 0.2 s deadline behind one lock, the first taking 0.5 s: every
    client gets RequestTimeout by its deadline, and the two that waited for the lock give up
    instead of predicting for nobody."""
    counting = Counting(sleepy)
    pool = prediction_pool(4, 0.2)
    predict, _ = predict_callable(sleepy, pool, call=counting)
    started = time.monotonic()
    results = _together(lambda data, params: pool.run(predict, data, params),
                        [np.array([[0.5, 0, 0, 0]])] * 3)  # fmt: skip
    assert all(isinstance(r, RequestTimeout) for r in results)
    assert time.monotonic() - started < 0.45
    time.sleep(0.6)  # the first prediction finishes in the background
    assert counting.calls == 1
    pool.close()


def test_a_batchable_model_is_batched_when_asked(forest: mlserve.PyFuncModel) -> None:
    predict, batcher = predict_callable(forest, prediction_pool(4, None), max_batch_size=8)
    assert isinstance(batcher, AdaptiveBatcher) and predict == batcher.submit
    rows = np.random.default_rng(0).normal(size=(3, 4))
    assert np.array_equal(predict(rows, None), forest.predict(rows))
    batcher.close()


def test_a_model_that_is_not_batchable_is_not_batched_and_says_so(
    sleepy: mlserve.PyFuncModel, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="mlserve.server"):
        _, batcher = predict_callable(sleepy, prediction_pool(4, None), max_batch_size=8)
    assert batcher is None
    assert "does not declare batchable predictions" in caplog.text


@pytest.mark.parametrize(("timeout", "inline"), [(None, True), (0, True), (30.0, False)],
                         ids=["no-timeout", "timeout-0", "timeout-30"])  # fmt: skip
def test_the_deadline_decides_where_a_request_runs(
    forest: mlserve.PyFuncModel, timeout: float | None, inline: bool
) -> None:
    """No deadline: decode, predict and encode run on the request's own thread (no hand-off);
    with one, on the pool's threads."""
    counting = Counting(forest)
    pool = prediction_pool(2, timeout)
    predict, _ = predict_callable(forest, pool, call=counting)
    pool.run(predict, np.zeros((1, 4)), None)
    assert (counting.threads == {threading.current_thread().name}) is inline
    pool.close()

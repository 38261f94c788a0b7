"""AdaptiveBatcher against a fake slow model running in real threads.

The fake model is the collaborator, not the thing under test: it sleeps, can be held inside
``predict`` until the test releases it (so the test decides exactly what is queued behind a running
batch), logs every call, and raises for any row whose first value is negative.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlserve.errors import InvalidParameterValue, ServerBusy
from mlserve.server._batching import AdaptiveBatcher


@dataclass
class Call:
    first_values: list[float]
    params: dict[str, Any] | None
    thread: int


@dataclass
class FakeModel:
    """Row-wise model: output row i is 10 x the first value of input row i."""

    delay: float = 0.0
    output: str = "ndarray"  # ndarray | frame | series | list | dict | aggregate | ...
    calls: list[Call] = field(default_factory=list)
    hold_next: bool = False  # the next call waits inside predict until ``release`` is set
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def predict(self, data: Any, params: dict[str, Any] | None) -> Any:
        first = data.iloc[:, 0] if isinstance(data, pd.DataFrame) else data[:, 0]
        first = np.asarray(first, dtype=float)
        self.calls.append(Call(first.tolist(), params, threading.get_ident()))
        if self.hold_next:
            self.hold_next = False
            self.entered.set()
            self.release.wait(5)
        time.sleep(self.delay)
        if (first < 0).any():
            raise ValueError("negative input")
        scale = (params or {}).get("scale", 1)
        out = first * 10 * scale
        if self.output == "frame":
            return pd.DataFrame({"y": out})
        if self.output == "series":
            return pd.Series(out, name="y")
        if self.output == "list":
            return out.tolist()
        if self.output == "aggregate":  # not row-wise: one value per call
            return np.array([out.sum()])
        if self.output == "dict":  # named outputs, as a multi-output graph gives
            return {
                "y": out,
                "pair": np.column_stack([out, -out]),
                "names": [f"r{v:g}" for v in out],
            }
        if self.output == "dict-with-aggregate":  # one named output is not row-wise
            return {"y": out, "total": np.array([out.sum()])}
        if self.output == "empty-dict":
            return {}
        return out


def rows(*values: float) -> np.ndarray:
    """A (n, 2) input whose first column carries the values the fake model reports."""
    return np.column_stack([np.array(values, dtype=float), np.zeros(len(values))])


class Client(threading.Thread):
    """Submit one request from its own thread and keep the result or the exception."""

    def __init__(self, batcher: AdaptiveBatcher, data: Any, params: dict | None = None) -> None:
        super().__init__(daemon=True)
        self.batcher, self.data, self.params = batcher, data, params
        self.result: Any = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.result = self.batcher.submit(self.data, self.params)
        except BaseException as exc:
            self.error = exc

    def outcome(self) -> Any:
        self.join(5)
        assert not self.is_alive(), "submit did not return"
        if self.error is not None:
            raise self.error
        return self.result


def assert_list_equal(out: Any, want: list[float]) -> None:
    assert isinstance(out, list)
    assert out == want


def assert_named_outputs(out: Any, want: list[float]) -> None:
    """The ``dict`` output of FakeModel for exactly the rows whose outputs are ``want``."""
    assert isinstance(out, dict) and list(out) == ["y", "pair", "names"]
    np.testing.assert_array_equal(out["y"], want)
    np.testing.assert_array_equal(out["pair"], np.column_stack([want, [-w for w in want]]))
    assert out["names"] == [f"r{w:g}" for w in want]


def wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def hold_leader(batcher: AdaptiveBatcher, model: FakeModel, data: Any) -> Client:
    """Start a request that stays inside predict until ``model.release`` is set."""
    model.hold_next = True
    leader = Client(batcher, data)
    assert model.entered.wait(5)
    return leader


def queue_behind(batcher: AdaptiveBatcher, *requests: tuple[Any, dict | None]) -> list[Client]:
    """Submit requests one at a time, each queued before the next, so their order is known."""
    clients = []
    for data, params in requests:
        expected = batcher.stats.requests + 1
        clients.append(Client(batcher, data, params))
        wait_until(lambda n=expected: batcher.stats.requests == n)
    return clients


def test_alone_request_runs_at_once_in_the_callers_thread() -> None:
    model = FakeModel()
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=64)
    started = time.perf_counter()
    out = batcher.submit(rows(1, 2), None)
    elapsed = time.perf_counter() - started
    np.testing.assert_array_equal(out, [10, 20])
    assert len(model.calls) == 1
    assert model.calls[0].thread == threading.get_ident()  # no hand-off to another thread
    assert elapsed < 0.05
    assert batcher.stats.merged_requests == 0


def test_batcher_is_a_drop_in_predict_callable() -> None:
    model = FakeModel()
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=8)
    np.testing.assert_array_equal(batcher(rows(4), {"scale": 2}), [80])
    assert model.calls[0].params == {"scale": 2}


def test_concurrent_requests_are_merged_split_and_kept_in_order() -> None:
    model = FakeModel()
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=64)
    leader = hold_leader(batcher, model, rows(0))
    clients = queue_behind(batcher, (rows(1, 2), None), (rows(3), None), (rows(4, 5, 6), None))
    model.release.set()
    leader.outcome()
    expected = [[10, 20], [30], [40, 50, 60]]
    for client, want in zip(clients, expected, strict=True):
        np.testing.assert_array_equal(client.outcome(), want)
    assert [c.first_values for c in model.calls] == [[0], [1, 2, 3, 4, 5, 6]]
    batcher.close(timeout=5)  # the last leader updates the counters after answering
    assert batcher.stats.merged_requests == 3
    assert batcher.stats.batches == 2


@pytest.mark.parametrize(
    ("make_input", "output", "check"),
    [
        (rows, "ndarray", lambda out, want: np.testing.assert_array_equal(out, want)),
        (
            lambda *v: pd.DataFrame({"a": v, "b": 0.0}),
            "frame",
            lambda out, want: pd.testing.assert_frame_equal(out, pd.DataFrame({"y": want})),
        ),
        (
            lambda *v: pd.DataFrame({"a": v, "b": 0.0}),
            "series",
            lambda out, want: pd.testing.assert_series_equal(out, pd.Series(want, name="y")),
        ),
        (rows, "list", lambda out, want: assert_list_equal(out, want)),
        (rows, "dict", lambda out, want: assert_named_outputs(out, want)),
        (
            lambda *v: pd.DataFrame({"a": v, "b": 0.0}),
            "dict",
            lambda out, want: assert_named_outputs(out, want),
        ),
    ],
    ids=[
        "ndarray-to-ndarray",
        "frame-to-frame",
        "frame-to-series",
        "ndarray-to-list",
        "ndarray-to-dict",
        "frame-to-dict",
    ],
)
def test_outputs_are_split_back_by_rows(make_input: Any, output: str, check: Any) -> None:
    model = FakeModel(output=output)
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=64)
    leader = hold_leader(batcher, model, make_input(0.0))
    clients = queue_behind(batcher, (make_input(1.0, 2.0), None), (make_input(3.0), None))
    model.release.set()
    leader.outcome()
    check(clients[0].outcome(), [10.0, 20.0])
    check(clients[1].outcome(), [30.0])
    assert len(model.calls) == 2  # the two queued requests went out as one call


def test_a_failing_request_does_not_fail_its_neighbours() -> None:
    model = FakeModel()
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=64)
    leader = hold_leader(batcher, model, rows(0))
    good1, bad, good2 = queue_behind(
        batcher, (rows(1), None), (rows(-1, 2), None), (rows(3, 4), None)
    )
    model.release.set()
    leader.outcome()
    np.testing.assert_array_equal(good1.outcome(), [10])
    np.testing.assert_array_equal(good2.outcome(), [30, 40])
    with pytest.raises(ValueError, match="negative input"):
        bad.outcome()
    # one merged attempt, then each request alone
    assert [c.first_values for c in model.calls[1:]] == [[1, -1, 2, 3, 4], [1], [-1, 2], [3, 4]]
    batcher.close(timeout=5)
    assert batcher.stats.retried_requests == 3


def test_output_that_does_not_match_the_rows_falls_back_to_one_call_per_request() -> None:
    model = FakeModel(output="aggregate")
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=64)
    leader = hold_leader(batcher, model, rows(0))
    a, b = queue_behind(batcher, (rows(1, 2), None), (rows(3), None))
    model.release.set()
    leader.outcome()
    np.testing.assert_array_equal(a.outcome(), [30])
    np.testing.assert_array_equal(b.outcome(), [30])
    assert [c.first_values for c in model.calls[1:]] == [[1, 2, 3], [1, 2], [3]]


@pytest.mark.parametrize(
    ("output", "check"),
    [
        ("dict-with-aggregate", lambda out, total: out["total"].tolist() == [total]),
        ("empty-dict", lambda out, total: out == {}),
    ],
    ids=["one-value-not-row-wise", "no-values"],
)
def test_dict_output_that_cannot_be_split_falls_back_to_one_call_per_request(
    output: str, check: Any
) -> None:
    model = FakeModel(output=output)
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=64)
    leader = hold_leader(batcher, model, rows(0))
    a, b = queue_behind(batcher, (rows(1, 2), None), (rows(3), None))
    model.release.set()
    leader.outcome()
    assert check(a.outcome(), 30.0)  # each request's own output, not the batch's
    assert check(b.outcome(), 30.0)
    assert [c.first_values for c in model.calls[1:]] == [[1, 2, 3], [1, 2], [3]]
    batcher.close(timeout=5)
    assert batcher.stats.retried_requests == 2


def test_oversize_request_is_predicted_alone_without_queueing() -> None:
    model = FakeModel()
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=4)
    leader = hold_leader(batcher, model, rows(0))
    # Not queued behind the held batch: it runs at once, in full, in its own thread.
    big = batcher.submit(rows(*range(1, 11)), None)
    np.testing.assert_array_equal(big, np.arange(1, 11) * 10)
    assert model.calls[1].first_values == list(map(float, range(1, 11)))
    assert model.calls[1].thread == threading.get_ident()
    model.release.set()
    leader.outcome()
    assert batcher.stats.direct_requests == 1


def test_batches_never_exceed_max_batch_rows() -> None:
    model = FakeModel()
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=3)
    leader = hold_leader(batcher, model, rows(0))
    clients = queue_behind(
        batcher, (rows(1, 2), None), (rows(3, 4), None), (rows(5), None), (rows(6), None)
    )
    model.release.set()
    leader.outcome()
    for c in clients:
        c.outcome()
    # 1+2 rows fit; 3,4 does not fit beside 1,2 but 5 does; then 3,4 with 6
    assert [c.first_values for c in model.calls[1:]] == [[1, 2, 5], [3, 4, 6]]


def test_only_requests_with_equal_params_and_columns_are_merged() -> None:
    model = FakeModel()
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=64)
    leader = hold_leader(batcher, model, rows(0))
    other_columns = pd.DataFrame({"z": [7.0], "b": [0.0]})
    clients = queue_behind(
        batcher,
        (rows(1), {"scale": 1}),
        (rows(2), {"scale": 2}),
        (rows(3), {"scale": 1}),
        (pd.DataFrame({"a": [4.0], "b": [0.0]}), {"scale": 1}),
        (other_columns, {"scale": 1}),
    )
    model.release.set()
    leader.outcome()
    outputs = [c.outcome().tolist() for c in clients]
    assert outputs == [[10], [40], [30], [40], [70]]
    batches = [(c.first_values, c.params) for c in model.calls[1:]]
    assert batches == [
        ([1, 3], {"scale": 1}),
        ([2], {"scale": 2}),
        ([4], {"scale": 1}),
        ([7], {"scale": 1}),
    ]


def test_array_valued_params_compare_by_value() -> None:
    model = FakeModel()
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=64)
    leader = hold_leader(batcher, model, rows(0))
    queued = queue_behind(
        batcher, (rows(1), {"w": np.array([1, 2])}), (rows(2), {"w": np.array([1, 2])})
    )
    model.release.set()
    leader.outcome()
    for c in queued:
        c.outcome()
    assert model.calls[1].first_values == [1, 2]


def test_full_queue_raises_server_busy_with_retry_after() -> None:
    model = FakeModel()
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=2, max_queue_rows=2)
    leader = hold_leader(batcher, model, rows(0))
    queued = queue_behind(batcher, (rows(1), None), (rows(2), None))
    with pytest.raises(ServerBusy) as info:
        batcher.submit(rows(3), None)
    assert info.value.retry_after >= 1
    assert info.value.error_code == "TEMPORARILY_UNAVAILABLE"
    model.release.set()
    leader.outcome()
    assert [c.outcome().tolist() for c in queued] == [[10], [20]]
    assert batcher.stats.rejected == 1
    # once drained, requests are admitted again
    np.testing.assert_array_equal(batcher.submit(rows(3), None), [30])


def test_max_delay_waits_for_company_and_stops_when_the_batch_is_full() -> None:
    model = FakeModel()
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=2, max_delay_ms=2000)
    started = time.perf_counter()
    first = Client(batcher, rows(1))
    wait_until(lambda: batcher.stats.requests == 1)
    second = Client(batcher, rows(2))
    np.testing.assert_array_equal(first.outcome(), [10])
    np.testing.assert_array_equal(second.outcome(), [20])
    assert time.perf_counter() - started < 1.0  # did not sit out the whole 2 s window
    assert [c.first_values for c in model.calls] == [[1, 2]]


def test_max_delay_bounds_the_wait_of_a_lone_request() -> None:
    model = FakeModel()
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=8, max_delay_ms=50)
    started = time.perf_counter()
    batcher.submit(rows(1), None)
    assert 0.045 <= time.perf_counter() - started < 1.0


def test_many_threads_each_get_their_own_rows() -> None:
    model = FakeModel(delay=0.001)
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=16)
    errors: list[str] = []

    def client(seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(30):
            values = rng.integers(1, 1000, size=int(rng.integers(1, 6))).astype(float)
            out = batcher.submit(rows(*values), None)
            if out.tolist() != (values * 10).tolist():
                errors.append(f"client {seed} got the wrong rows")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    batcher.close(timeout=5)
    stats = batcher.stats
    assert stats.requests == 16 * 30
    assert stats.batches < stats.requests  # load did produce merged batches
    assert all(len(c.first_values) <= 16 for c in model.calls)


def test_unmergeable_inputs_are_predicted_directly() -> None:
    calls: list[Any] = []

    def predict(data: Any, params: dict | None) -> Any:
        calls.append(data)
        return "ok"

    batcher = AdaptiveBatcher(predict, max_batch_rows=8)
    tensor_dict = {"x": np.ones((2, 2))}
    indexed = pd.DataFrame({"a": [1.0]}, index=[7])
    assert batcher.submit(tensor_dict, None) == "ok"
    assert batcher.submit(indexed, None) == "ok"
    assert calls[0] is tensor_dict and calls[1] is indexed
    assert batcher.stats.direct_requests == 2


def test_closed_batcher_refuses_requests() -> None:
    model = FakeModel()
    batcher = AdaptiveBatcher(model.predict, max_batch_rows=8)
    batcher.close(timeout=1)
    with pytest.raises(ServerBusy):
        batcher.submit(rows(1), None)


@pytest.mark.parametrize(
    "options",
    [
        {"max_batch_rows": 0},
        {"max_batch_rows": 4, "max_delay_ms": -1},
        {"max_batch_rows": 4, "max_queue_rows": 0},
    ],
    ids=["zero-batch", "negative-delay", "zero-queue"],
)
def test_invalid_options_are_rejected(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterValue):
        AdaptiveBatcher(FakeModel().predict, **options)

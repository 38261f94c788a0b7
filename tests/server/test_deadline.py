"""DeadlinePool: results and errors pass through, a late call is abandoned with RequestTimeout,
and abandoned calls never take more threads than the pool has."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from mlserve.errors import RequestTimeout
from mlserve.server._deadline import DeadlinePool


def test_result_and_exceptions_pass_through() -> None:
    pool = DeadlinePool(2, timeout=5)
    assert pool.run(lambda a, b: a + b, 2, 3) == 5
    with pytest.raises(ZeroDivisionError):
        pool.run(lambda: 1 / 0)
    pool.close()


def test_no_timeout_runs_inline() -> None:
    pool = DeadlinePool(1, timeout=0)
    assert pool.run(threading.get_ident) == threading.get_ident()


def test_late_call_times_out_and_finishes_in_background() -> None:
    pool = DeadlinePool(1, timeout=0.1)
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.3)
        finished.set()

    started = time.monotonic()
    with pytest.raises(RequestTimeout) as exc:
        pool.run(slow)
    assert time.monotonic() - started < 0.25
    assert exc.value.timeout == 0.1
    assert exc.value.error_code == "DEADLINE_EXCEEDED"
    assert finished.wait(2)  # the abandoned call was not killed
    assert pool.run(lambda: "next") == "next"  # and its thread is free again


def test_queued_call_that_times_out_never_runs() -> None:
    pool = DeadlinePool(1, timeout=0.1)
    release = threading.Event()
    ran = []
    blocker = threading.Thread(target=lambda: _swallow(pool, release.wait))
    blocker.start()
    time.sleep(0.02)
    with pytest.raises(RequestTimeout):
        pool.run(ran.append, "queued")
    release.set()
    blocker.join()
    time.sleep(0.05)
    assert ran == []


def test_threads_are_bounded_and_reused() -> None:
    pool = DeadlinePool(3, timeout=5)
    barrier = threading.Barrier(3)
    names: set[str] = set()

    def work() -> None:
        names.add(threading.current_thread().name)
        barrier.wait(timeout=2)

    callers = [threading.Thread(target=pool.run, args=(work,)) for _ in range(3)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    for _ in range(10):
        pool.run(lambda: names.add(threading.current_thread().name))
    assert len(names) == 3
    assert all(threading.Thread.daemon for t in threading.enumerate() if t.name in names)


def test_deadline_counts_time_already_spent() -> None:
    pool = DeadlinePool(1, timeout=10)
    with pytest.raises(RequestTimeout):
        pool.run(time.sleep, 0.2, deadline=time.monotonic() + 0.05)


def _swallow(pool: DeadlinePool, fn) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(RequestTimeout):
        pool.run(fn)


def test_a_call_knows_when_its_caller_stopped_waiting() -> None:
    pool = DeadlinePool(1, timeout=0.1)
    seen: list[bool] = []

    def slow() -> None:
        seen.append(pool.abandoned())
        time.sleep(0.3)
        seen.append(pool.abandoned())

    with pytest.raises(RequestTimeout):
        pool.run(slow)
    time.sleep(0.4)
    assert seen == [False, True]
    assert pool.run(pool.abandoned) is False  # the next call starts afresh
    assert pool.abandoned() is False  # not a pool thread

"""A worker gives memory back after large requests: the malloc tuning of
:mod:`mlserve.server._memory` and the runner's ``gc.freeze()``, measured on a real server."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

import mlserve
from mlserve.server import _memory as server_memory

from .helpers import memory, start_server

MiB = 1024 * 1024
CSV = {"Content-Type": "text/csv"}


def test_the_arena_limit_leaves_a_user_setting_alone() -> None:
    assert server_memory.limit_arenas({"MALLOC_ARENA_MAX": "4"}) is False


def test_release_free_memory_is_safe_to_call_any_time() -> None:
    assert isinstance(server_memory.release_free_memory(), bool)


def _wait_for(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def _recording_trimmer(idle_seconds: float) -> tuple[server_memory.IdleTrimmer, list[float]]:
    """A trimmer for bodies from 1,000 bytes whose trims are the times they happened."""
    calls: list[float] = []
    trimmer = server_memory.IdleTrimmer(
        idle_seconds=idle_seconds, threshold=1000, trim=lambda: calls.append(time.monotonic())
    )
    return trimmer, calls


def test_the_trimmer_trims_once_after_a_pause_following_a_large_request() -> None:
    trimmer, calls = _recording_trimmer(0.1)
    trimmer.started(10)
    trimmer.finished()
    time.sleep(0.3)
    assert calls == [], "a small request alone is not followed by a trim"
    trimmer.started(5000)
    trimmer.finished()
    ended = time.monotonic()
    assert _wait_for(lambda: len(calls) == 1)
    assert calls[0] - ended >= 0.09, "the trim came before the worker had paused"
    time.sleep(0.3)
    assert len(calls) == 1, "one pause, one trim"


def test_the_trimmer_waits_while_requests_keep_coming() -> None:
    trimmer, calls = _recording_trimmer(0.2)
    trimmer.started(5000)
    trimmer.finished()
    busy_until = time.monotonic() + 0.6
    while time.monotonic() < busy_until:  # back-to-back small requests, 50 ms apart
        trimmer.started(10)
        time.sleep(0.01)
        trimmer.finished()
        time.sleep(0.04)
    assert calls == [], "trimmed while requests were still arriving"
    last_end = time.monotonic()
    trimmer.started(10)  # one still in flight: no trim, however long it takes
    time.sleep(0.4)
    assert calls == []
    trimmer.finished()
    assert _wait_for(lambda: len(calls) == 1)
    assert calls[0] - last_end >= 0.6


def _unique(pid: int) -> int:
    used = memory(pid)
    return used["Private_Clean"] + used["Private_Dirty"]


@pytest.mark.slow
def test_worker_memory_returns_after_concurrent_10000_row_csv_requests(tmp_path: Path) -> None:
    """16 clients each send four 10,000-row CSV bodies (4 MiB) at once to one worker; a second
    after the burst its unique memory is within 20 MiB of what it was before (it grew by
    60-80 MiB without gc.freeze, the arena limit and the trim)."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 20)), columns=[f"x{i}" for i in range(20)])
    model = LogisticRegression().fit(frame, (frame["x0"] > 0).astype(int))
    mlserve.save_model(model, tmp_path / "lr", input_example=frame.head(3))
    rows = frame.sample(10_000, replace=True, random_state=1)
    body = rows.to_csv(index=False).encode()
    with start_server(tmp_path, "-m", str(tmp_path / "lr"), "-w", "1") as server:
        (worker,) = server.wait_workers(1)
        url = server.url + "/invocations"
        small = rows.head(2).to_csv(index=False).encode()
        assert requests.post(url, data=small, headers=CSV, timeout=30).status_code == 200
        time.sleep(0.5)
        before = _unique(worker)

        def client() -> None:
            with requests.Session() as session:
                for _ in range(4):
                    response = session.post(url, data=body, headers=CSV, timeout=60)
                    assert response.status_code == 200, response.text[:200]

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            for done in [pool.submit(client) for _ in range(16)]:
                done.result()
        time.sleep(1.0 + server_memory.TRIM_IDLE_SECONDS)  # the trim waits for a pause
        grown = _unique(worker) - before
    assert grown < 20 * MiB, f"the worker kept {grown / MiB:.1f} MiB more after the burst"

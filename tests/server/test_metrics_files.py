"""The metrics directory of a pre-fork server: dead workers' counts are kept, files stay bounded.

The values are written by real ``prometheus_client`` processes (forked children using the
server's own :class:`~mlserve.server._metrics.ServerMetrics`); a dead worker is folded in with
:func:`~mlserve.server._metrics_files.worker_died`, as the server's parent does when gunicorn
reaps it. Thousands of restarts are simulated by copying one real worker's files under
thousands of PIDs (forking thousands of processes would only make the test slower).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mlserve.server import _metrics_files as metrics_files
from mlserve.server._metrics import DIR_ENV, ServerMetrics

# A child that counts `n` requests with the server's metrics in `directory`, then exits; its
# PID is printed (the files it leaves are named by it).
_WORKER = textwrap.dedent(
    """
    import os, sys
    os.environ["MLSERVE_METRICS_DIR"] = sys.argv[1]
    from mlserve.server._metrics import ServerMetrics

    metrics = ServerMetrics()
    stages = metrics.model("rf", "3")
    for _ in range(int(sys.argv[2])):
        metrics.in_flight.inc()
        stages.decode(0.0002)
        stages.rows(1)
        metrics.answered("rf", "3", "/invocations", 200, 0.0007)
        metrics.in_flight.dec()
    metrics.in_flight.inc()  # one request still in flight when it dies
    print(os.getpid())
    """
)


def _run_worker(directory: Path, requests: int) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(directory), str(requests)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(done.stdout)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


_REQUESTS = (
    "mlserve_requests_total",
    (("code", "200"), ("model", "rf"), ("route", "/invocations"), ("version", "3")),
)
_DECODES = (
    "mlserve_stage_duration_seconds_count",
    (("model", "rf"), ("stage", "decode"), ("version", "3")),
)
_IN_FLIGHT = ("mlserve_requests_in_flight", ())


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    path = tmp_path / "metrics"
    path.mkdir()
    (path / ".lock").touch()
    return path


def test_a_dead_workers_counts_are_kept_and_its_files_go(directory: Path) -> None:
    first = _run_worker(directory, 5)
    second = _run_worker(directory, 7)
    before = _samples(metrics_files.scrape(directory).decode())
    assert before[_REQUESTS] == 12 and before[_DECODES] == 12 and before[_IN_FLIGHT] == 2

    metrics_files.worker_died(directory, first)
    after = _samples(metrics_files.scrape(directory).decode())
    assert after[_REQUESTS] == 12 and after[_DECODES] == 12
    assert after[_IN_FLIGHT] == 1  # the dead worker's request is no longer in flight
    assert not list(directory.glob(f"*_{first}.db"))
    metrics_files.worker_died(directory, second)
    metrics_files.worker_died(directory, second)  # twice (or a PID with no files): no-op
    final = _samples(metrics_files.scrape(directory).decode())
    assert final[_REQUESTS] == 12 and final.get(_IN_FLIGHT, 0) == 0  # no live process
    assert sorted(p.name for p in directory.glob("*.db")) == [
        "counter_archive.db",
        "histogram_archive.db",
    ]


def test_thousands_of_restarts_keep_the_scrape_fast_and_the_totals_exact(directory: Path) -> None:
    """3,000 dead workers of 3 requests each: every count is kept, the directory holds the
    archives only, and a scrape reads as few files as with no restart at all."""
    template = directory.parent / "template"
    template.mkdir()
    pid = _run_worker(template, 3)
    restarts = 3000
    started = time.perf_counter()
    for fake in range(1_000_000, 1_000_000 + restarts):
        for source in template.glob(f"*_{pid}.db"):
            shutil.copyfile(source, directory / source.name.replace(str(pid), str(fake)))
        metrics_files.worker_died(directory, fake)
    folding = (time.perf_counter() - started) / restarts
    assert len(list(directory.glob("*.db"))) == 2

    started = time.perf_counter()
    text = metrics_files.scrape(directory).decode()
    scrape = time.perf_counter() - started
    values = _samples(text)
    assert values[_REQUESTS] == 3 * restarts and values[_DECODES] == 3 * restarts
    assert values.get(_IN_FLIGHT, 0) == 0
    print(
        f"fold per restart {folding * 1000:.2f} ms, scrape after {restarts} restarts "
        f"{scrape * 1000:.1f} ms"
    )
    assert scrape < 0.5, f"scrape took {scrape:.3f} s"


def test_counts_never_go_down_while_workers_are_folded_in(directory: Path) -> None:
    """Scrapes running while dead workers are folded in (the parent reaping them as a worker
    answers a scrape) see every count once: the total never drops, never exceeds."""
    pids = [_run_worker(directory, 4) for _ in range(3)]
    extra = list(range(2_000_000, 2_000_060))
    for fake in extra:  # 60 more dead workers' files, 4 requests each
        for source in directory.glob(f"*_{pids[0]}.db"):
            shutil.copyfile(source, directory / source.name.replace(str(pids[0]), str(fake)))
    expected = 4 * (len(pids) + len(extra))
    seen: list[float] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def scrape() -> None:
        try:
            while not stop.is_set():
                seen.append(_samples(metrics_files.scrape(directory).decode())[_REQUESTS])
        except BaseException as exc:  # reported below
            errors.append(exc)

    reader = threading.Thread(target=scrape)
    reader.start()
    try:
        for pid in [*pids, *extra]:
            metrics_files.worker_died(directory, pid)
            time.sleep(0.002)  # scrapes land between folds as well as during them
    finally:
        stop.set()
        reader.join(30)
    assert not errors, errors
    assert len(seen) > 3
    assert set(seen) == {expected}, sorted(set(seen))


def _record(metrics: ServerMetrics) -> None:
    """The same observations, whatever keeps them."""
    stages = metrics.model("rf", "3")
    for seconds in (0.00004, 0.0002, 0.003, 0.7, 61.0, 0.0002):
        stages.decode(seconds)
        metrics.answered("rf", "3", "/invocations", 200, seconds)
    metrics.answered("rf", "3", "/invocations", 400, 0.001)
    stages.rows(3)
    stages.batch_size(64)
    stages.queued_rows(5)
    metrics.in_flight.inc()
    metrics.in_flight.inc()
    metrics.in_flight.dec()
    metrics.model_loaded("rf", "3", 1.5, 1024)


def test_the_files_scrape_as_prometheus_clients_own_metrics(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Values written to the directory read back (through prometheus_client's multiprocess
    collector) as the same samples prometheus_client's own metrics give for the same
    observations: the file format and keys are right."""
    in_process = ServerMetrics()
    assert in_process.directory is None
    _record(in_process)
    monkeypatch.setenv(DIR_ENV, str(directory))
    in_files = ServerMetrics()
    assert in_files.directory == directory
    _record(in_files)
    ours = _samples(in_files.scrape().decode())
    theirs = {
        key: value
        for key, value in _samples(in_process.scrape().decode()).items()
        if not key[0].endswith("_created")
    }
    assert ours == theirs


def test_a_forked_worker_writes_its_own_file_from_zero(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Series made before the fork (the parent preloads the app) count in the child's own
    file, from zero, and the parent's values stay the parent's."""
    monkeypatch.setenv(DIR_ENV, str(directory))
    metrics = ServerMetrics()
    metrics.answered("rf", "3", "/invocations", 200, 0.001)  # the parent: 1
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child exits below
        try:
            for _ in range(5):
                metrics.answered("rf", "3", "/invocations", 200, 0.001)
        finally:
            os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0
    metrics.answered("rf", "3", "/invocations", 200, 0.001)  # the parent: 2
    assert _samples(metrics.scrape().decode())[_REQUESTS] == 7
    assert (directory / f"counter_{pid}.db").exists()
    metrics_files.worker_died(directory, pid)
    assert _samples(metrics.scrape().decode())[_REQUESTS] == 7


def test_threads_counting_at_once_lose_nothing(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DIR_ENV, str(directory))
    metrics = ServerMetrics()

    def count() -> None:
        for _ in range(2000):
            metrics.answered("rf", "3", "/invocations", 200, 0.001)
            metrics.model("rf", "3").decode(0.0002)

    threads = [threading.Thread(target=count) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    values = _samples(metrics.scrape().decode())
    assert values[_REQUESTS] == values[_DECODES] == 16000


def test_prepare_and_remove(tmp_path: Path) -> None:
    path = metrics_files.prepare()
    try:
        assert path.is_dir() and not list(path.glob("*.db"))
        assert metrics_files.scrape(path) == b""  # nothing written yet: an empty exposition
    finally:
        metrics_files.remove(path)
    assert not path.exists()


def test_a_directory_that_went_away_costs_the_numbers_not_the_request(
    directory: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(DIR_ENV, str(directory))
    metrics = ServerMetrics()
    metrics.answered("rf", "3", "/invocations", 200, 0.001)
    shutil.rmtree(directory)
    pid = os.fork()  # a new worker: it must open files of its own in the missing directory
    if pid == 0:  # pragma: no cover - the child exits below
        code = 1
        try:
            for _ in range(3):
                metrics.answered("rf", "3", "/invocations", 200, 0.001)
                metrics.model("rf", "3").decode(0.001)
            code = 0
        finally:
            os._exit(code)
    assert os.waitpid(pid, 0)[1] == 0  # no exception reached the request

"""The metrics directory of a pre-fork server: every worker's values, and what is left of dead ones.

``prometheus_client``'s multiprocess mode gives each process its own memory-mapped files in
``PROMETHEUS_MULTIPROC_DIR`` (``counter_<pid>.db``, ``histogram_<pid>.db``,
``gauge_livesum_<pid>.db``, ...), and a scrape reads and sums every file there. Left alone, the
files of dead workers pile up (thousands after a few days of restarts) and each scrape reads
them all: tens of seconds (client_python#367). Deleting them, as ``mark_process_dead`` does for
gauges and MLServer does for everything, makes counters go backwards.

Here the server's parent (gunicorn's arbiter) owns the directory:

- :func:`prepare` makes a fresh directory and points ``prometheus_client`` at it, before any
  metric exists; :func:`remove` deletes it when the server stops.
- When a worker exits, the parent calls :func:`worker_died`: the worker's counter and histogram
  values are *added* into ``counter_archive.db`` / ``histogram_archive.db`` and its files are
  deleted; its gauge files are deleted (its requests in flight or queued are no longer there).
  Totals keep every request a dead worker counted, and the directory holds at most one file per
  live process and type plus the two archives, however many workers came and went: a scrape
  reads ``O(live workers + label sets)`` values, never ``O(restarts)``.
- Folding a file in and scraping exclude each other with a lock file (``flock``: exclusive for
  the fold, shared for scrapes), so a scrape sees a dead worker's counts either in its own file
  or in the archive, never in both or neither; a lock holder that dies releases it. Only the
  parent forks workers, and it folds a dead worker in before it forks the next one, so a reused
  PID can never meet a stale file.

The fold writes ``.db`` files with ``prometheus_client.mmap_dict.MmapedDict``, the class its
own processes write them with (an internal module, stable since 0.4; ``setup.cfg`` keeps the
version below 1.0 and ``tests/server/test_metrics_files.py`` breaks if it moves).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ENV", "prepare", "remove", "scrape", "worker_died"]

#: the variable ``prometheus_client`` reads to find the directory
ENV = "PROMETHEUS_MULTIPROC_DIR"
_LOCK = ".lock"
#: the values of dead workers, one file per metric type (a name no process ID can take)
_ARCHIVED_KINDS = ("counter", "histogram")


def prepare() -> Path:
    """A fresh, empty directory for this server's metrics, set as ``PROMETHEUS_MULTIPROC_DIR``.

    Call it before any metric is created (before the model and the app, and before the fork):
    ``prometheus_client`` picks its storage when a metric value is made. If something imported
    ``prometheus_client`` already, its value class is switched to the multiprocess one, as a
    start-up script setting the variable would have done.
    """
    path = Path(tempfile.mkdtemp(prefix="mlserve-metrics-"))
    os.environ[ENV] = str(path)
    (path / _LOCK).touch()
    if "prometheus_client.values" in sys.modules:
        from prometheus_client import values

        values.ValueClass = values.MultiProcessValue()
    return path


def remove(path: Path) -> None:
    """Delete the directory (the server stopped: nothing reads or writes it any more)."""
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _locked(path: Path, mode: int) -> Iterator[None]:
    with open(path / _LOCK, "a+b") as lock:
        fcntl.flock(lock.fileno(), mode)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def worker_died(path: Path, pid: int) -> None:
    """Fold the counters and histograms of the exited process ``pid`` into the archive files
    and delete its files (see the module doc). A PID with no files is a no-op."""
    from prometheus_client.mmap_dict import MmapedDict

    with _locked(path, fcntl.LOCK_EX):
        for kind in _ARCHIVED_KINDS:
            dead = path / f"{kind}_{pid}.db"
            if not dead.exists():
                continue
            entries = MmapedDict.read_all_values_from_file(str(dead))
            archive = MmapedDict(str(path / f"{kind}_archive.db"))
            try:
                for key, value, _timestamp, _position in entries:
                    if value:
                        total = archive.read_value(key)[0] + value
                        archive.write_value(key, total, 0.0)
            finally:
                archive.close()
            dead.unlink()
        for gauge in path.glob(f"gauge_*_{pid}.db"):
            gauge.unlink(missing_ok=True)


def scrape(path: Path) -> bytes:
    """Every process's values, live and dead, summed: the Prometheus text format."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(path))
    with _locked(path, fcntl.LOCK_SH):
        return generate_latest(registry)

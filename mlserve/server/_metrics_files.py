"""The metrics directory of a pre-fork server: every worker's values, and what is left of dead ones.

``prometheus_client``'s multiprocess mode gives each process its own memory-mapped files in
``PROMETHEUS_MULTIPROC_DIR`` (``counter_<pid>.db``, ``histogram_<pid>.db``,
``gauge_livesum_<pid>.db``, ...), and a scrape reads and sums every file there. Left alone, the
files of dead workers pile up (thousands after a few days of restarts) and each scrape reads
them all: tens of seconds (client_python#367). Deleting them, as ``mark_process_dead`` does for
gauges and MLServer does for everything, makes counters go backwards.

Here the server's parent (gunicorn's arbiter) owns the directory:

- :func:`prepare` makes a fresh directory before the model loads (and before the fork);
  :func:`remove` deletes it when the server stops.
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

Each process writes its own values with :class:`ProcessFiles` (the series classes below), not
through ``prometheus_client``'s multiprocess values: those take a lock, check the PID and walk
the buckets in Python for every number, ~4 us per histogram observation, 46 us for the ten or
so a request records; written here it is one bisect and two 8-byte stores. Both write the same
files through ``prometheus_client.mmap_dict`` (``MmapedDict`` and ``mmap_key``: an internal
module, stable since 0.4; ``setup.cfg`` keeps the version below 1.0, and every test that scrapes
reads these files back with ``prometheus_client``'s own collector). ``prometheus_client`` reads
the directory; it is never put in multiprocess mode, so nothing depends on when it is imported.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import struct
import tempfile
import threading
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "FileCounter",
    "FileGauge",
    "FileHistogram",
    "ProcessFiles",
    "prepare",
    "remove",
    "scrape",
    "worker_died",
    "write_together",
]

_LOCK = ".lock"
logger = logging.getLogger("mlserve.server")

#: the values of dead workers, one file per metric type (a name no process ID can take)
_ARCHIVED_KINDS = ("counter", "histogram")


def prepare() -> Path:
    """A fresh, empty metrics directory (every process of the server writes its files there).

    It is made in ``/dev/shm`` where there is one: the files are memory maps written on every
    request, and on a disk the kernel writes their dirty pages back every few seconds (I/O for
    numbers nobody needs on disk, and a page fault to dirty each page again).
    """
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    path = Path(tempfile.mkdtemp(prefix="mlserve-metrics-", dir=shm))
    (path / _LOCK).touch()
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
    and delete its files (see the module doc). A PID with no files is a no-op, and needs no
    ``prometheus_client`` (a server without the extra writes none)."""
    with _locked(path, fcntl.LOCK_EX):
        for kind in _ARCHIVED_KINDS:
            dead = path / f"{kind}_{pid}.db"
            if not dead.exists():
                continue
            from prometheus_client.mmap_dict import MmapedDict

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


_DOUBLE = struct.Struct("d").pack
_S = TypeVar("_S", bound="_Series")


class ProcessFiles:
    """This process's value files in a metrics directory, opened on first use and again after a
    fork (a forked child writes files named by its own PID, from zero)."""

    _by_path: dict[Path, ProcessFiles] = {}
    _made = threading.Lock()

    @classmethod
    def of(cls, path: Path) -> ProcessFiles:
        """The one instance for ``path`` in this process (two would write one file apart)."""
        with cls._made:
            found = cls._by_path.get(path)
            if found is None:
                found = cls._by_path[path] = cls(path)
            return found

    def series(self, kind: type[_S], *args: Any) -> _S:
        """The one series object of this process for these arguments (``kind(self, *args)``;
        two would keep two running values for one key)."""
        key = (kind, repr(args))
        with self.lock:
            found = self._series.get(key)
            if found is None:
                found = self._series[key] = kind(self, *args)
                found._resolved()  # a series exists (at 0) from when it is made, as in Prometheus
            return found  # type: ignore[return-value]

    def __init__(self, path: Path) -> None:
        self.path = path
        self._series: dict[tuple[type, str], _Series] = {}
        #: held for every write: values are read, added to and stored (one process-wide lock)
        self.lock = threading.Lock()
        self._pid = os.getpid()
        #: bumped after a fork, so every series finds its keys in the child's own file
        self.generation = 0
        self._files: dict[str, Any] = {}
        #: set once the directory could not be written (logged once)
        self.failed = False
        # a fork is noticed when it happens, not by asking for the PID on every write
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        """In a new child: its own files from now on, and a lock no parent thread holds."""
        self.lock = threading.Lock()
        for inherited in self._files.values():
            inherited.close()  # the parent's mapping; its file stays the parent's
        self._files = {}
        self._pid = os.getpid()
        self.generation += 1

    def slots(self, prefix: str, keys: Sequence[str]) -> tuple[Any, list[int], list[float]]:
        """The file for ``prefix`` (``counter``, ``histogram``, ``gauge_livesum``...), and each
        key's position and value in it, the keys made where new (lock held)."""
        from prometheus_client.mmap_dict import MmapedDict

        file = self._files.get(prefix)
        if file is None:
            file = self._files[prefix] = MmapedDict(str(self.path / f"{prefix}_{self._pid}.db"))
        values = [file.read_value(key)[0] for key in keys]  # makes a new key (value 0)
        return file, [file._positions[key] for key in keys], values


class _Series:
    """A labelled series' keys in the files, and its values in this process."""

    __slots__ = ("_file", "_files", "_generation", "_keys", "_positions", "_prefix", "_values")

    def __init__(self, files: ProcessFiles, prefix: str, keys: list[str]) -> None:
        self._files = files
        self._prefix = prefix
        self._keys = keys
        self._generation = -1
        self._file: Any = None
        self._positions: list[int] = []
        self._values: list[float] = []

    def resolve(self) -> None:
        """Find (or make) the keys in this process's file (lock held)."""
        if self._generation != self._files.generation:
            self._file, self._positions, self._values = self._files.slots(self._prefix, self._keys)
            self._generation = self._files.generation

    def _resolved(self) -> bool:
        """:meth:`resolve`, or False (logged once per process) when the directory cannot be
        written: a request must not fail because its numbers cannot be kept."""
        try:
            self.resolve()
        except OSError as exc:
            if not self._files.failed:
                self._files.failed = True
                logger.error("Metrics cannot be written to %s: %s", self._files.path, exc)
            return False
        return True

    def _add_locked(self, amount: float) -> None:
        """Add ``amount`` (lock held, keys resolved): value 0 for a counter or a gauge."""
        value = self._values[0] + amount
        self._values[0] = value
        position = self._positions[0]
        self._file._m[position : position + 8] = _DOUBLE(value)

    def _write(self, index: int, amount: float, *, add: bool = True) -> None:
        """Add ``amount`` to value ``index`` (or set it), in memory and in the file."""
        files = self._files
        with files.lock:
            if self._generation != files.generation and not self._resolved():
                return
            value = self._values[index] + amount if add else amount
            self._values[index] = value
            position = self._positions[index]
            # a slice store, as prometheus_client writes (its note: pack_into can be read torn)
            self._file._m[position : position + 8] = _DOUBLE(value)


def _key(family: str, sample: str, labels: dict[str, str], help_text: str) -> str:
    from prometheus_client.mmap_dict import mmap_key

    return mmap_key(family, sample, list(labels), list(labels.values()), help_text)


class FileCounter(_Series):
    """One counter series (``<family>_total``)."""

    __slots__ = ()

    def __init__(
        self, files: ProcessFiles, family: str, help_text: str, labels: dict[str, str]
    ) -> None:
        super().__init__(files, "counter", [_key(family, f"{family}_total", labels, help_text)])

    def inc(self, amount: float = 1.0) -> None:
        """Add ``amount`` (not negative)."""
        self._write(0, amount)


class FileGauge(_Series):
    """One gauge series, summed (``livesum``) or maxed (``livemax``) over live processes."""

    __slots__ = ()

    def __init__(
        self, files: ProcessFiles, family: str, help_text: str, labels: dict[str, str], mode: str
    ) -> None:
        super().__init__(files, f"gauge_{mode}", [_key(family, family, labels, help_text)])

    def inc(self, amount: float = 1.0) -> None:
        """Add ``amount``."""
        self._write(0, amount)

    def dec(self, amount: float = 1.0) -> None:
        """Subtract ``amount``."""
        self._write(0, -amount)

    def set(self, value: float) -> None:
        """Set the value."""
        self._write(0, value, add=False)


class FileHistogram(_Series):
    """One histogram series: its sum and a count per bucket (the files hold each bucket's own
    count; the collector adds them up into Prometheus' cumulative buckets)."""

    __slots__ = ("_bounds",)

    def __init__(
        self,
        files: ProcessFiles,
        family: str,
        help_text: str,
        labels: dict[str, str],
        bounds: Sequence[float],
    ) -> None:
        from prometheus_client.utils import floatToGoString

        self._bounds = (*bounds, float("inf"))
        keys = [_key(family, f"{family}_sum", labels, help_text)]
        keys += [
            _key(family, f"{family}_bucket", {**labels, "le": floatToGoString(b)}, help_text)
            for b in self._bounds
        ]
        super().__init__(files, "histogram", keys)

    def observe(self, amount: float) -> None:
        """Count ``amount`` in its bucket and add it to the sum."""
        files = self._files
        with files.lock:
            if self._generation != files.generation and not self._resolved():
                return
            self._add_locked(amount)

    def _add_locked(self, amount: float) -> None:
        bucket = bisect_left(self._bounds, amount) + 1  # keys[0] is the sum
        values, positions, m = self._values, self._positions, self._file._m
        total = values[0] + amount
        values[0] = total
        m[positions[0] : positions[0] + 8] = _DOUBLE(total)
        count = values[bucket] + 1
        values[bucket] = count
        m[positions[bucket] : positions[bucket] + 8] = _DOUBLE(count)


def write_together(files: ProcessFiles, writes: Sequence[tuple[Any, float]]) -> None:
    """Several ``(series, amount)`` at once, under one acquisition of the lock: a counter or
    gauge series adds ``amount``, a histogram observes it (what one request records)."""
    with files.lock:
        generation = files.generation
        for series, amount in writes:
            if series._generation == generation or series._resolved():
                series._add_locked(amount)

"""Handing memory back to the system after large requests (glibc's malloc; a no-op elsewhere).

A 10,000-row CSV request allocates tens of MiB (the body, the parsed frame, the model's
intermediates) and frees them when it is answered. glibc keeps freed memory in the malloc arena
of the thread that freed it, and gives a thread that finds its arena busy a new arena, so a
worker whose request and prediction threads handle large bodies at once ends up holding several
arenas full of free pages: its unique memory grew by tens of MiB and stayed there. Two things
bring it back down (measured in ``docs/performance.md``): at most :data:`ARENA_MAX` arenas per
worker (:func:`limit_arenas`, set by the runner in each worker after the fork, unless
``MALLOC_ARENA_MAX`` is set), and ``malloc_trim(0)`` once no request is in flight after one
whose body was at least :data:`TRIM_AFTER_BYTES` (:func:`release_free_memory`, called by an
:class:`IdleTrimmer` the app tells when requests start and end) when the worker has then stayed
idle for :data:`TRIM_IDLE_SECONDS`, which returns the free pages of every arena to the system.
Trimming only after a pause keeps it off a busy worker's path: pages given back must be faulted
in again, and trimming between back-to-back 10,000-row CSV requests at concurrency 1 cost 0.61x
of their throughput in one bench run.

(The third part of the fix is the runner's ``gc.freeze()`` before forking: without it a worker's
garbage collector un-shares the pages of every object inherited from the parent.)
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "ARENA_MAX",
    "TRIM_AFTER_BYTES",
    "TRIM_IDLE_SECONDS",
    "IdleTrimmer",
    "limit_arenas",
    "release_free_memory",
]

#: malloc arenas a worker may use (glibc's default is 8 per core)
ARENA_MAX = 2
#: request bodies from this size up are followed by a malloc_trim (0.2-0.4 ms) once idle; a
#: 1,000-row JSON body (400 KiB) left a worker 15 % larger until trimmed
TRIM_AFTER_BYTES = 256 * 1024
#: how long a worker must stay idle after such a request before it trims
TRIM_IDLE_SECONDS = 1.0

_M_ARENA_MAX = -8  # mallopt parameter, glibc's malloc.h


def _glibc_function(name: str) -> Any | None:
    try:
        return getattr(ctypes.CDLL(None), name)  # the C library this interpreter runs on
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return None


_mallopt = _glibc_function("mallopt")
_malloc_trim = _glibc_function("malloc_trim")


def limit_arenas(environ: Mapping[str, str] | None = None) -> bool:
    """Let this process's malloc use at most :data:`ARENA_MAX` arenas; returns whether it did.

    Nothing is changed when ``MALLOC_ARENA_MAX`` is set in ``environ`` (default
    ``os.environ``): glibc applied the user's value when the process started. Also a no-op
    (``False``) where the C library is not glibc.
    """
    environ = os.environ if environ is None else environ
    if _mallopt is None or environ.get("MALLOC_ARENA_MAX"):
        return False
    return bool(_mallopt(_M_ARENA_MAX, ARENA_MAX))


def release_free_memory() -> bool:
    """Return the free pages of every malloc arena to the system (``malloc_trim(0)``).

    Returns whether any memory was released; ``False`` where the C library is not glibc.
    """
    if _malloc_trim is None:
        return False
    return bool(_malloc_trim(0))


class IdleTrimmer:
    """Trims (:func:`release_free_memory`) once the worker has stayed idle after a large request.

    The app calls :meth:`started` and :meth:`finished` around each request; one daemon thread,
    started with the first large request (so after the fork, in the worker), waits until no
    request has been in flight for ``idle_seconds`` since one of at least ``threshold`` bytes,
    then trims once. A request arriving meanwhile postpones the trim to the next pause.
    """

    def __init__(
        self,
        idle_seconds: float = TRIM_IDLE_SECONDS,
        threshold: int = TRIM_AFTER_BYTES,
        trim: Callable[[], object] = release_free_memory,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.threshold = threshold
        self._trim = trim
        self._changed = threading.Condition(threading.Lock())
        self._active = 0
        self._pending = False
        self._last_end = 0.0
        self._thread: threading.Thread | None = None

    def started(self, body_size: int) -> None:
        """A request with a ``body_size``-byte body is being handled."""
        with self._changed:
            self._active += 1
            if body_size >= self.threshold:
                self._pending = True
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="mlserve-trim", daemon=True
                    )
                    self._thread.start()

    def finished(self) -> None:
        """A request counted by :meth:`started` has ended (answered or failed)."""
        with self._changed:
            self._active -= 1
            self._last_end = time.monotonic()
            if self._pending and not self._active:
                self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                while True:
                    if not self._pending or self._active:
                        self._changed.wait()
                        continue
                    left = self._last_end + self.idle_seconds - time.monotonic()
                    if left <= 0:
                        break
                    self._changed.wait(left)
                self._pending = False
            self._trim()  # outside the lock: requests go on meanwhile

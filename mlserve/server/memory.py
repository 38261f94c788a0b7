"""Handing memory back to the system after large requests (glibc's malloc; a no-op elsewhere).

A 10,000-row CSV request allocates tens of MiB (the body, the parsed frame, the model's
intermediates) and frees them when it is answered. glibc keeps freed memory in the malloc arena
of the thread that freed it, and gives a thread that finds its arena busy a new arena, so a
worker whose request and prediction threads handle large bodies at once ends up holding several
arenas full of free pages: its unique memory grew by tens of MiB and stayed there. Two things
bring it back down (measured in ``docs/performance.md``): at most :data:`ARENA_MAX` arenas per
worker (:func:`limit_arenas`, set by the runner in each worker after the fork, unless
``MALLOC_ARENA_MAX`` is set), and ``malloc_trim(0)`` once no request is in flight after one
whose body was at least :data:`TRIM_AFTER_BYTES` (:func:`release_free_memory`, called by the
app) when the worker has then stayed idle for :data:`TRIM_IDLE_SECONDS`, which returns the free
pages of every arena to the system. Trimming only after a pause keeps it off a busy worker's
path: pages given back must be faulted in again, and trimming between back-to-back 10,000-row
CSV requests at concurrency 1 cost 0.61x of their throughput in one bench run.

(The third part of the fix is the runner's ``gc.freeze()`` before forking: without it a worker's
garbage collector un-shares the pages of every object inherited from the parent.)
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ARENA_MAX",
    "TRIM_AFTER_BYTES",
    "TRIM_IDLE_SECONDS",
    "limit_arenas",
    "release_free_memory",
]

#: malloc arenas a worker may use (glibc's default is 8 per core)
ARENA_MAX = 2
#: request bodies from this size up are followed by a malloc_trim (0.2-0.4 ms) once idle
TRIM_AFTER_BYTES = 1024 * 1024
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

"""How much memory each served model takes, which models are in use, and which one to unload
when the server's limit on models is reached (``--max-models``, ``--max-memory``).

A model's memory is what the serving process grew by while loading it: its resident set
(``/proc/self/statm``) before and after, so it counts the arrays and objects the model built,
and the first model of a framework also carries the framework's own import (scikit-learn's is
tens of MiB; a second model of the same framework does not pay it again). It is measured once,
where the model is loaded (before the fork for models given with ``-m``, in each worker for one
loaded through the repository extension), and reported in the repository index and the model's
V2 metadata. It is a measurement, not a promise: memory a model allocates later, while
predicting, is not in it.

The limits count every served model, the default one (``/invocations``) included, but that one
is never unloaded. When a load through the repository extension takes the server past a limit,
the least recently used models with no request in flight are unloaded until it fits; "in
flight" means between the start and the end of its prediction (queued in a batch or running).
If nothing can be unloaded, the load is refused and the models stay as they were.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from mlserve.errors import InvalidParameterValue, MlserveError, ServerBusy

__all__ = [
    "ModelLimits",
    "ModelTooLarge",
    "ModelsInUse",
    "Usage",
    "measure_load",
    "resident_bytes",
]

T = TypeVar("T")

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int | None:
    """This process's resident set size in bytes, or None where ``/proc`` does not tell."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def measure_load(load: Callable[[], T]) -> tuple[T, int | None]:
    """Run ``load()`` and return what it built with the bytes the process grew by meanwhile
    (0 if it shrank; None where the size cannot be read)."""
    before = resident_bytes()
    built = load()
    after = resident_bytes()
    if before is None or after is None:
        return built, None
    return built, max(after - before, 0)


class Usage:
    """When a model was last asked to predict and how many of its predictions are running.

    :meth:`track` wraps the model's predict callable; the cost is one lock and one clock read
    per request.
    """

    __slots__ = ("_in_flight", "_lock", "last_used")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        #: ``time.monotonic()`` of the last prediction's start (the load, until then)
        self.last_used = time.monotonic()

    @property
    def in_flight(self) -> int:
        """Predictions started and not yet finished."""
        return self._in_flight

    def track(
        self, predict: Callable[[Any, dict | None], Any]
    ) -> Callable[[Any, dict | None], Any]:
        """``predict``, counting each call as in flight until it returns or raises."""
        lock = self._lock

        def tracked(data: Any, params: dict | None) -> Any:
            with lock:
                self._in_flight += 1
                self.last_used = time.monotonic()
            try:
                return predict(data, params)
            finally:
                with lock:
                    self._in_flight -= 1

        return tracked


class ModelsInUse(ServerBusy):
    """Only models with a prediction in flight could make room for a load (HTTP 503 with
    ``Retry-After``): the load is refused and may be retried."""

    def __init__(self, name: str) -> None:
        super().__init__(retry_after=1.0)
        self.message = (
            f"Loading {name!r} would exceed the server's model limit (--max-models or "
            "--max-memory) and every model that could be unloaded has a request in flight; "
            "retry after 1 s."
        )


class ModelTooLarge(InvalidParameterValue):
    """A model that alone takes more memory than ``--max-memory`` allows (HTTP 400)."""

    def __init__(self, name: str, size: int, limit: int) -> None:
        super().__init__(
            f"Model {name!r} takes {_mib(size)} once loaded; --max-memory is {_mib(limit)}, "
            "so it can never be served here. Raise the limit or serve it elsewhere."
        )


@dataclass(frozen=True)
class ModelLimits:
    """The most models (``max_models``) and the most measured model memory in bytes
    (``max_memory``) one server holds; 0 means no limit."""

    max_models: int = 0
    max_memory: int = 0

    @property
    def active(self) -> bool:
        """Whether any limit is set."""
        return self.max_models > 0 or self.max_memory > 0

    def check_start(self, sizes: Mapping[str, int | None]) -> None:
        """Refuse a start-up whose models (``name -> measured bytes``) already exceed a limit:
        nothing would be left to unload for them."""
        if self.max_models and len(sizes) > self.max_models:
            raise MlserveError(
                f"{len(sizes)} models are given with -m but --max-models is {self.max_models}"
            )
        total = sum(s or 0 for s in sizes.values())
        if self.max_memory and total > self.max_memory:
            raise MlserveError(
                f"the models given with -m take {_mib(total)} once loaded, more than "
                f"--max-memory ({_mib(self.max_memory)})"
            )

    def to_unload(
        self,
        new: str,
        new_size: int | None,
        served: Mapping[str, tuple[int | None, Usage]],
        keep: Iterable[str],
    ) -> list[str]:
        """The models to unload so that ``served`` plus ``new`` fits, least recently used
        first, never one of ``keep``, ``new`` itself or one with a prediction in flight.

        ``served`` maps each model served now (``new``'s previous version included, which the
        load replaces) to its measured bytes and :class:`Usage`. Raises :class:`ModelTooLarge`
        when ``new`` alone is over ``max_memory`` and :class:`ModelsInUse` when only models
        in use could make room.
        """
        if self.max_memory and (new_size or 0) > self.max_memory:
            raise ModelTooLarge(new, new_size or 0, self.max_memory)
        others = {n: v for n, v in served.items() if n != new}
        count = len(others) + 1
        memory = sum(size or 0 for size, _ in others.values()) + (new_size or 0)
        pinned = set(keep) | {new}
        candidates = sorted(
            (usage.last_used, name)
            for name, (_, usage) in others.items()
            if name not in pinned and usage.in_flight == 0
        )
        chosen: list[str] = []
        for _, name in candidates:
            if not self._over(count, memory):
                break
            chosen.append(name)
            count -= 1
            memory -= others[name][0] or 0
        if self._over(count, memory):
            raise ModelsInUse(new)
        return chosen

    def _over(self, count: int, memory: int) -> bool:
        return bool(
            (self.max_models and count > self.max_models)
            or (self.max_memory and memory > self.max_memory)
        )


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"

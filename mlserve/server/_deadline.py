"""Run a call with a deadline on a small pool of daemon threads.

Python cannot interrupt a thread that is inside a model's ``predict`` (often in C code that
holds no Python frame to interrupt), so a deadline can only stop the *waiting*: the caller gets
:class:`~mlserve.errors.RequestTimeout` when time is up, while the computation finishes in the
background and its result is dropped. The pool is bounded, so abandoned computations can never
take more threads than the pool has: once every thread is busy, new calls wait in the queue
and time out in turn, which sheds load instead of piling it up.

The threads are daemons so that a worker process can exit while an abandoned computation is
still running, and they are started lazily, on first use, so a pool created before the server
forks its workers carries no thread across the fork.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from mlserve.errors import RequestTimeout

__all__ = ["DeadlinePool"]

T = TypeVar("T")

_Job = tuple[Future, Callable[..., Any], tuple[Any, ...]]


class DeadlinePool:
    """Run callables on up to ``max_threads`` daemon threads, waiting at most ``timeout`` seconds.

    ``timeout`` of ``None`` or ``0`` means no deadline; the call then runs inline on the
    caller's thread (no hand-off cost at all).
    """

    def __init__(self, max_threads: int, timeout: float | None) -> None:
        if max_threads < 1:
            raise ValueError("max_threads must be at least 1")
        self.max_threads = max_threads
        self.timeout = timeout or None
        self._lock = threading.Lock()
        self._pid = -1
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        # idle threads minus queued jobs
        self._free = 0
        # the future a pool thread is running (see abandoned())
        self._current = threading.local()

    def run(self, fn: Callable[..., T], *args: Any, deadline: float | None = None) -> T:
        """Call ``fn(*args)`` and return its result, or raise ``RequestTimeout``.

        ``deadline`` (a ``time.monotonic()`` value) overrides ``now + timeout``, so time already
        spent on the request (reading its body) counts. Exceptions raised by ``fn`` propagate
        unchanged.
        """
        if self.timeout is None:
            return fn(*args)
        if deadline is None:
            deadline = time.monotonic() + self.timeout
        future: Future[T] = Future()
        self._submit((future, fn, args))
        try:
            return future.result(timeout=max(deadline - time.monotonic(), 0.0))
        except FutureTimeout:
            # not started yet: never start it; started: it runs on, its result is dropped,
            # and abandoned() tells it so (to skip work still ahead of it)
            if not future.cancel():
                future.abandoned = True  # type: ignore[attr-defined]
            raise RequestTimeout(self.timeout) from None
        finally:
            # An exception from fn holds this frame in its traceback, and this frame held the
            # future, which holds the exception: a cycle that kept the request (a 95 MB body
            # in ``args``) alive until a full garbage collection, so a worker answering
            # invalid bodies grew by hundreds of MB. Dropping the locals breaks it.
            del future, args

    def abandoned(self) -> bool:
        """True on a pool thread whose current call's caller has stopped waiting (timed out).

        A call that has more waiting ahead of it (a model lock held by another request) checks
        this to give up instead of predicting for a client that already has its 504.
        """
        future = getattr(self._current, "future", None)
        return bool(getattr(future, "abandoned", False))

    def _submit(self, job: _Job) -> None:
        with self._lock:
            if self._pid != os.getpid():
                # a forked child inherits the list but none of the threads
                self._pid = os.getpid()
                self._threads = []
                self._free = 0
                self._queue = queue.SimpleQueue()
            if self._free <= 0 and len(self._threads) < self.max_threads:
                # a new thread is started for this job: no credit is taken
                thread = threading.Thread(
                    target=self._work,
                    args=(self._queue,),
                    name=f"mlserve-predict-{len(self._threads)}",
                    daemon=True,
                )
                self._threads.append(thread)
                thread.start()
            else:
                # take an idle thread's credit; below zero means jobs wait for a thread
                self._free -= 1
            self._queue.put(job)

    def _work(self, jobs: queue.SimpleQueue[_Job | None]) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            future, fn, args = job
            try:
                if future.set_running_or_notify_cancel():
                    self._current.future = future
                    try:
                        future.set_result(fn(*args))
                    except BaseException as exc:
                        future.set_exception(exc)
            finally:
                self._current.future = None
                del job, future, fn, args  # do not keep the last request alive while idle
                with self._lock:
                    self._free += 1

    def close(self) -> None:
        """Ask idle threads to stop; running computations finish first. Safe to call twice."""
        with self._lock:
            if self._pid != os.getpid():
                return
            for _ in self._threads:
                self._queue.put(None)
            self._threads = []
            self._free = 0

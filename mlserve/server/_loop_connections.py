"""The connections a worker's event loop holds without a thread: requests being read, and
connections closing.

:class:`~mlserve.server._worker.DeadlineThreadWorker` (the gunicorn adapter) hands each new or
kept-alive connection here. Its request is read in the event loop into a
:class:`~mlserve.server._reading.RequestBuffer` under the worker's
:class:`~mlserve.server._reading.ReadPolicy`, and handed to the worker's thread pool only once it
looks complete; a connection closing after its answer lingers here, without blocking the loop,
until the client closes its side. The worker asks when the nearest deadline is (to wake for it)
and expires what ran out of time after each wait.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from functools import partial
from typing import Any, Protocol

from mlserve.server._raw_answers import TIMEOUT_ANSWER, send_quietly
from mlserve.server._reading import ReadPolicy, RequestBuffer

__all__ = ["LoopConnections", "LoopHost"]

#: bytes read per readiness event; a large body arrives over several loop turns, so other
#: connections are served in between
_READ_SIZE = 256 * 1024
#: the largest single read, for a body whose length is known
_MAX_READ_SIZE = 8 * 1024 * 1024
#: how long a closing connection may take to close its side after our last byte
_CLOSE_LINGER = 2.0


class LoopHost(Protocol):
    """What :class:`LoopConnections` uses of its worker (gthread's names)."""

    #: the event loop's selector
    poller: selectors.BaseSelector
    #: open connections, counted by the worker against its accept limit
    nr_conns: int

    def enqueue_req(self, conn: Any) -> None:
        """Hand a connection with a complete request to a thread."""


class LoopConnections:
    """The requests one worker's event loop is reading, and the connections it is closing."""

    def __init__(self, host: LoopHost, policy: ReadPolicy) -> None:
        self._host = host
        self._policy = policy
        #: connections whose request is being read in the event loop, with what arrived so far
        self.reading: dict[Any, RequestBuffer] = {}
        #: bytes held by those buffers; past ``policy.max_body_size``, requests go to a thread
        #: unfinished (read there under the same time rule) instead of adding to the memory held
        self._buffered = 0
        #: closing connections, and when they are closed whether or not the client is done
        self._closing: dict[Any, float] = {}
        #: connections registered with the poller while being read
        self._watched: set[Any] = set()
        #: set when a stop began: connections that have sent nothing are closed by then
        self.stop_by: float | None = None

    def read_new(self, conn: Any, started: float) -> None:
        """Read a new connection's first request, from when it was accepted."""
        self.reading[conn] = RequestBuffer(started)
        self._watch(conn)

    def read_next(self, conn: Any, client: Any) -> None:
        """Read a kept-alive connection's next request, which has started to arrive."""
        self.reading[conn] = RequestBuffer(time.monotonic())
        # most requests arrive whole in one read: only one that does not is watched by the
        # poller, which saves registering and unregistering it on every keep-alive request
        self._on_readable(conn, client)
        if conn in self.reading:
            self._watch(conn)

    def begin_stop(self, linger: float) -> None:
        """A stop began: connections that have sent nothing are closed ``linger`` s from now."""
        self.stop_by = time.monotonic() + linger

    def close_all(self) -> None:
        """What the drain left open: the process exits, the clients should know now."""
        for conn in [*self.reading, *self._closing]:
            conn.close()

    def _watch(self, conn: Any) -> None:
        self._host.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn)
        )
        self._watched.add(conn)

    def _on_readable(self, conn: Any, client: Any) -> None:
        buffer = self.reading.get(conn)
        if buffer is None:
            return
        while True:
            # As much as the body still needs, in one read where the kernel has it: each read
            # gives up the GIL, and taking it back behind busy request threads can take a
            # switch interval (5 ms): with 256 KiB reads, 10,000-row CSVs at 16 connections ran
            # at 0.85x the rate of gthread's own reads in one bench run, at 1.0x with these.
            size = min(max(buffer.wanted(), _READ_SIZE), _MAX_READ_SIZE)
            try:
                data = conn.sock.recv(size)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:  # the client went away (or reset) before its request was complete
                self._stop_reading(conn)
                self._host.nr_conns -= 1
                conn.close()
                return
            before = len(buffer.data)
            complete = buffer.feed(data, max_body_size=self._policy.max_body_size)
            self._buffered += len(buffer.data) - before
            if complete or self._buffered > self._policy.max_body_size:
                self._stop_reading(conn)
                conn.sock.hand_over(buffer)
                conn.data_ready = True  # gthread: do not wait for data on the thread
                self._host.enqueue_req(conn)
                return
            if len(data) < size:
                return  # the kernel has no more for now: back to the loop

    def _stop_reading(self, conn: Any) -> RequestBuffer:
        buffer = self.reading.pop(conn)
        self._buffered -= len(buffer.data)
        if conn in self._watched:
            self._watched.discard(conn)
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._host.poller.unregister(conn.sock)
        return buffer

    def close_gently(self, conn: Any) -> None:
        """Close after the answer without blocking the loop: send FIN, then read (and drop)
        what the client still sends until it closes or :data:`_CLOSE_LINGER` ends, so the
        kernel does not reset the connection over unread bytes before the answer is read."""
        try:
            conn.sock.setblocking(False)
            conn.sock.shutdown(socket.SHUT_WR)
            self._host.poller.register(
                conn.sock, selectors.EVENT_READ, partial(self._on_closing, conn)
            )
        except (OSError, ValueError, KeyError):
            self._host.nr_conns -= 1
            conn.close()
            return
        self._closing[conn] = time.monotonic() + _CLOSE_LINGER

    def _on_closing(self, conn: Any, client: Any) -> None:
        try:
            if conn.sock.recv(65536):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._finish_closing(conn)

    def _finish_closing(self, conn: Any) -> None:
        del self._closing[conn]
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._host.poller.unregister(conn.sock)
        self._host.nr_conns -= 1
        conn.close()

    def nearest_deadline(self) -> float | None:
        """When the first read deadline or closing linger ends (None: nothing is timed)."""
        deadlines = [buffer.deadline(self._policy) for buffer in self.reading.values()]
        deadlines += self._closing.values()
        if self.stop_by is not None and self.reading:
            deadlines.append(self.stop_by)
        return min(deadlines, default=None)

    def expire(self) -> None:
        """Close the connections out of time: too slow a request (a stalled body is answered
        408 first), a linger that ended, and on a stop, connections that sent nothing."""
        now = time.monotonic()
        for conn, until in list(self._closing.items()):
            if until <= now:
                self._finish_closing(conn)
        stopping = self.stop_by is not None and self.stop_by <= now
        for conn, buffer in list(self.reading.items()):
            idle_at_stop = stopping and not buffer.data
            if not idle_at_stop and buffer.deadline(self._policy) > now:
                continue
            self._stop_reading(conn)
            if buffer.head_done:
                send_quietly(conn.sock, TIMEOUT_ANSWER)
            self._host.nr_conns -= 1
            conn.close()

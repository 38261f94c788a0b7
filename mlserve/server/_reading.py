"""How long a client may take to send a request, and reading it without holding a thread.

A request thread that reads from a blocking socket is held for as long as the client takes: ten
clients trickling their headers a byte every 2 s, or fifty trickling a body, held every thread of
every worker for the whole ``--timeout`` and every valid request waited behind them. So the
production worker (:mod:`mlserve.server._worker`) reads each request in its event loop, without a
thread, into a :class:`RequestBuffer`, and hands it to a thread only once it looks complete. The
rules here decide when that is and how long a client may take; they do no I/O.

The time rule (:class:`ReadPolicy`), from a request's first byte (for a new connection, from its
accept): the request line and headers within ``header_timeout`` seconds; the body within another
``header_timeout`` seconds plus one second per ``min_body_rate`` bytes received, so a body must
keep arriving at about ``min_body_rate`` on average; and everything within ``--timeout``.

"Looks complete" is only a hint (:meth:`RequestBuffer.feed`): gunicorn's parser, on the thread,
decides what the request is. A request handed over early (a ``Expect: 100-continue``, a framing
this scan does not follow, a body beyond the worker's buffer budget) is read on the thread from a
:class:`DeadlineSocket`, under the same time rule, so a wrong guess costs at most a thread for
the rule's time, never a thread held for as long as a client likes.
"""

from __future__ import annotations

import contextlib
import math
import socket
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["DeadlineSocket", "ReadPolicy", "RequestBuffer"]

# Largest head the scan waits for: gunicorn's default limits (a 4094-byte request line, 100
# fields of at most 8190 bytes) and some slack. Past it, the parser refuses the request itself.
_MAX_HEAD = 4096 + 100 * 8192 + 1024


@dataclass(frozen=True)
class ReadPolicy:
    """The time a client may take to send a request (see the module doc).

    ``timeout`` (``--timeout``, ``None`` for no limit) caps the whole read; ``max_body_size``
    is how far a body is buffered before it is handed to the application, which answers 413.
    """

    header_timeout: float = 10.0
    min_body_rate: int = 16 * 1024
    timeout: float | None = 60.0
    max_body_size: int = 100 * 1024 * 1024

    def deadline(self, started: float, head_done: bool, body_received: int) -> float:
        """When a request that started at ``started`` (monotonic) has run out of time (``inf``:
        never, with both ``header_timeout`` and ``timeout`` off)."""
        allowed = math.inf
        if self.header_timeout:
            allowed = self.header_timeout
            if head_done:
                allowed += self.header_timeout + body_received / max(self.min_body_rate, 1)
        if self.timeout:
            allowed = min(allowed, self.timeout)
        return started + allowed


class RequestBuffer:
    """The bytes of one request read so far, and whether it looks complete.

    Complete means: the head has ended, and the body declared by ``Content-Length`` has arrived
    (or a chunked body ends with the blank line that ends its last chunk). A head that asks for
    ``100-continue``, names a framing this scan does not follow, or declares a body over
    ``max_body_size`` is complete as soon as the head is: the thread answers it.
    """

    __slots__ = ("_body_needed", "_chunked", "_head_end", "data", "started")

    def __init__(self, started: float, data: bytes = b"") -> None:
        self.started = started
        self.data = bytearray()
        self._head_end: int | None = None
        self._body_needed: int | None = 0  # None: read until the chunked body looks ended
        self._chunked = False
        if data:
            self.feed(data, max_body_size=0)

    @property
    def head_done(self) -> bool:
        return self._head_end is not None

    @property
    def body_received(self) -> int:
        return 0 if self._head_end is None else len(self.data) - self._head_end

    def wanted(self) -> int:
        """Bytes of a ``Content-Length`` body still to come (0 when unknown or none)."""
        if self._head_end is None or self._chunked or self._body_needed is None:
            return 0
        return max(self._body_needed - self.body_received, 0)

    def deadline(self, policy: ReadPolicy) -> float:
        return policy.deadline(self.started, self.head_done, self.body_received)

    def feed(self, data: bytes, *, max_body_size: int) -> bool:
        """Add ``data``; return whether the request looks complete (hand it over)."""
        searched_from = max(len(self.data) - 3, 0)
        self.data += data
        if self._head_end is None:
            end = self.data.find(b"\r\n\r\n", searched_from)
            if end < 0:
                return len(self.data) > _MAX_HEAD
            self._head_end = end + 4
            if not self._read_framing(bytes(self.data[:end]), max_body_size):
                return True
        if self._chunked:
            return self.data.endswith(b"\r\n\r\n") and self.body_received >= 5
        assert self._body_needed is not None
        return self.body_received >= self._body_needed

    def _read_framing(self, head: bytes, max_body_size: int) -> bool:
        """Note the body's framing from the head; False: hand over now, the thread decides."""
        lengths: list[bytes] = []
        codings: list[bytes] = []
        for line in head.split(b"\r\n")[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                return False
            name = name.strip().lower()
            value = value.strip().lower()
            if name == b"content-length":
                lengths.append(value)
            elif name == b"transfer-encoding":
                codings += [c.strip() for c in value.split(b",")]
            elif name == b"expect":
                return False  # 100-continue: the client waits for the thread's interim answer
        if codings:
            if lengths or codings != [b"chunked"]:
                return False
            self._chunked = True
            return True
        if not lengths:
            self._body_needed = 0
            return True
        if len(lengths) > 1 or not lengths[0].isdigit():
            return False
        self._body_needed = int(lengths[0])
        return self._body_needed <= max_body_size


class DeadlineSocket(socket.socket):
    """A client socket whose blocking reads on a thread follow a :class:`ReadPolicy`.

    The event loop gives it what it read ahead (:meth:`hand_over`); blocking reads return that
    first, then read the socket until the request's deadline, which moves on as bytes arrive
    (the policy's minimum rate). When the deadline passes, reading stops for good:
    ``timed_out`` is set, the read side is shut down and reads return end-of-file, so gunicorn
    closes the connection after answering (quietly, as for a client that went away; the app
    answers a body cut short this way with 408). Each blocking write may take up to the
    policy's ``timeout``, so a client that stops reading its answer cannot hold a thread either.

    ``policy`` is given by whoever makes the socket (the worker, from the server's
    configuration); without one, reads are not timed.
    """

    #: the current request ran out of time while it was being read
    timed_out = False
    _ahead: memoryview | None = None
    _started: float | None = None
    _received = 0
    #: a thread is reading a request under the policy (set by setblocking(True))
    _timed = False

    def __init__(
        self,
        family: int = -1,
        type: int = -1,
        proto: int = -1,
        fileno: int | None = None,
        *,
        policy: ReadPolicy | None = None,
    ) -> None:
        super().__init__(family, type, proto, fileno)
        #: the rule every request on this connection follows (None: reads are not timed)
        self.policy = policy

    def hand_over(self, buffered: RequestBuffer) -> None:
        """Start a request: serve ``buffered`` first, time the rest from when it started."""
        # a view, not a copy: the buffer is not touched again (a body can be 100 MiB)
        self._ahead = memoryview(buffered.data) if buffered.data else None
        self._started = buffered.started
        self._received = len(buffered.data)

    def take_ahead(self) -> bytes:
        """What the event loop read that no request has consumed (a pipelined request)."""
        ahead, self._ahead = self._ahead, None
        return bytes(ahead) if ahead is not None else b""

    def setblocking(self, flag: bool) -> None:
        # gunicorn makes the socket blocking at the start of each request a thread handles, and
        # non-blocking when the connection goes back to its event loop
        super().setblocking(flag)
        self._timed = flag and self.policy is not None and not self.timed_out
        if self._timed and self._started is None:  # not handed over by the event loop
            self._started = time.monotonic()
            self._received = 0

    def request_done(self) -> None:
        """The thread is done with the current request: the next one is timed afresh."""
        self._started = None
        self._timed = False

    def _remaining(self) -> bool:
        """Set the socket's timeout to what is left for the next read; False once it is gone."""
        if self.timed_out:
            return False
        if not self._timed or self.policy is None or self._started is None:
            return True
        deadline = self.policy.deadline(self._started, True, self._received)
        if deadline == math.inf:
            super().settimeout(None)
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            self._give_up()
            return False
        super().settimeout(remaining)
        return True

    def _give_up(self) -> None:
        self.timed_out = True
        self._timed = False
        with contextlib.suppress(OSError):
            self.shutdown(socket.SHUT_RD)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if self._ahead is not None:
            ahead, rest = self._ahead[:bufsize], self._ahead[bufsize:]
            self._ahead = rest if len(rest) else None
            return bytes(ahead)
        if not self._remaining():
            return b""
        try:
            data = super().recv(bufsize, flags)
        except TimeoutError:
            self._give_up()
            return b""
        self._received += len(data)
        return data

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        if self._ahead is not None:
            data = self.recv(nbytes or len(buffer))
            buffer[: len(data)] = data
            return len(data)
        if not self._remaining():
            return 0
        try:
            count = super().recv_into(buffer, nbytes, flags)
        except TimeoutError:
            self._give_up()
            return 0
        self._received += count
        return count

    def sendall(self, data: Any, flags: int = 0) -> None:
        if self.gettimeout() != 0.0 and self.policy is not None:
            # per write, not what is left of the read deadline
            super().settimeout(self.policy.timeout or None)
        super().sendall(data, flags)

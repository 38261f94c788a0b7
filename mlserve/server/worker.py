"""gunicorn's ``gthread`` worker, with a deadline on reading each request.

gunicorn bounds the wait for a connection's *first* bytes, but once a request has started, its
threads read the rest (request line, headers, body) from a blocking socket with no time limit:
a client that trickles its headers a byte at a time holds a request thread for as long as it
likes, and a few such clients hold every thread of a worker. This worker gives each request a
read deadline of ``--timeout`` seconds from the moment its handling starts, covering the headers
and the body; writes get the same allowance per call, so a client that stops reading its
response cannot hold a thread either. Past the deadline the connection stops reading: during
the headers gunicorn drops it; during the body the app answers 408, then it is closed.

Only the socket changes: accepted connections are wrapped in :class:`DeadlineSocket`, whose
``setblocking(True)`` (which gunicorn calls at the start of every request it handles, including
each request of a keep-alive connection) arms the deadline.

Requests gunicorn refuses before they reach the application (a malformed request line or
header, headers too large, a bad chunk) get our JSON error body instead of gunicorn's HTML page,
with a fixed message per status: gunicorn's own text quotes the offending request bytes.
"""

from __future__ import annotations

import contextlib
import errno
import select
import socket
import threading
import time
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker

from mlserve.server.errors import answer_for_http

__all__ = ["DeadlineSocket", "DeadlineThreadWorker", "write_json_error"]

# gunicorn's refusals by status; the request's own bytes are never echoed
_PROTOCOL_ERRORS = {
    400: "The request is not valid HTTP (request line, header or chunked framing).",
    403: "The request is forbidden.",
    414: "The request line is too long.",
    417: "The Expect header is not supported.",
    431: "The request headers are too large or too many.",
    501: "The request's Transfer-Encoding is not supported.",
}


class DeadlineSocket(socket.socket):
    """A socket whose blocking reads share one deadline per request (see the module doc).

    When the deadline passes, reading stops for good: ``timed_out`` is set, the read side is
    shut down and reads return end-of-file, so gunicorn closes the connection after answering
    (quietly, as for a client that went away) instead of parsing what arrives late.
    """

    #: seconds a request may take to arrive, and each write to complete (None: no limit)
    io_timeout: float | None = None
    _deadline: float | None = None
    #: the current request ran out of time while it was being read
    timed_out = False

    def setblocking(self, flag: bool) -> None:
        if flag and self.io_timeout and not self.timed_out:
            self._deadline = time.monotonic() + self.io_timeout
            super().settimeout(self.io_timeout)
        else:
            self._deadline = None
            super().setblocking(flag)

    def _expired(self) -> bool:
        if self.timed_out:
            return True
        if self._deadline is not None:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                self._give_up()
                return True
            super().settimeout(remaining)
        return False

    def _give_up(self) -> None:
        self.timed_out = True
        self._deadline = None
        with contextlib.suppress(OSError):
            self.shutdown(socket.SHUT_RD)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if self._expired():
            return b""
        try:
            return super().recv(bufsize, flags)
        except TimeoutError:
            self._give_up()
            return b""

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        if self._expired():
            return 0
        try:
            return super().recv_into(buffer, nbytes, flags)
        except TimeoutError:
            self._give_up()
            return 0

    def sendall(self, data: Any, flags: int = 0) -> None:
        if self.gettimeout() != 0.0 and self.io_timeout:
            super().settimeout(self.io_timeout)  # per write, not what is left of the read deadline
        super().sendall(data, flags)


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """Stands in for gunicorn's ``util.write_error``: the same answer as a JSON error body.

    ``mesg`` (gunicorn's text, which may quote the request) is not sent; a 500 (a fault while
    handling the request, already logged by gunicorn) gets the generic internal-error text.
    """
    message = _PROTOCOL_ERRORS.get(
        status_int,
        "Internal server error; the details are in the server log."
        if status_int >= 500
        else "The request was refused.",
    )
    answer = answer_for_http(status_int, message)
    head = f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in answer.headers)
    head += f"Content-Length: {len(answer.body)}\r\n\r\n"
    util.write_nonblock(sock, head.encode("latin-1") + answer.body)


class DeadlineThreadWorker(ThreadWorker):
    """``gthread`` with :class:`DeadlineSocket` connections, accepting only with a free thread.

    ``io_timeout`` is set on :class:`DeadlineSocket` by the runner before the workers fork.
    Requests gunicorn refuses itself are answered by :func:`write_json_error`.

    gthread accepts new connections for as long as it holds fewer than ``worker_connections``
    (1000), busy or not, and a keep-alive connection stays with the worker that accepted it: a
    busy worker went on taking the connections of a burst of clients while its sibling idled
    (a 80/20 split of the requests, up to 98/2). This worker holds back while every one of its
    ``--threads`` threads has a request, so a new connection goes to a worker with a free
    thread. Holding back is bounded: a connection that no sibling has taken
    :attr:`accept_grace` seconds after this worker saw it waiting is accepted anyway (when every
    worker is saturated by keep-alive clients, nobody ever has a free thread, and new clients
    starved in the backlog: p99 of 725 ms at 16 connections on 2 workers). While holding back
    the listener is not polled, so a waiting connection is seen at the worker's next wake-up:
    a request finishing (which is also when a thread frees up) or the loop's 1 s tick. A single
    worker (no sibling) always accepts.
    Connections are not capped (a cap near the thread count would leave the clients beyond
    ``workers x cap`` waiting for a keep-alive connection to close).
    """

    #: requests handed to the thread pool and not finished yet (main-loop thread only)
    in_flight = 0
    #: how long a pending connection is left for a worker with a free thread (an idle sibling
    #: wakes and accepts within a millisecond or two)
    accept_grace = 0.005
    _max_connections = 0
    #: when this worker, holding back, first saw a connection waiting (None: none seen)
    _pending_since: float | None = None
    _listeners: select.poll | None = None

    @property
    def worker_connections(self) -> int:
        """gthread's accept limit, read by its event loop before each wait: the configured
        limit, or 0 (do not accept) while every thread is busy and no connection has waited
        longer than :attr:`accept_grace`."""
        # Only a sibling can take a connection this worker leaves in the backlog: alone, holding
        # back only starves new clients behind the keep-alive ones (p99 of seconds at c=16).
        if self.cfg.workers > 1 and self.in_flight >= self.cfg.threads:
            if not self._waited_past_grace():
                return 0
        else:
            self._pending_since = None
        return self._max_connections

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        self._max_connections = value

    def _waited_past_grace(self) -> bool:
        """Whether a connection has waited in the backlog longer than the grace (a poll with
        no wait; the listener is not registered with the event loop while holding back)."""
        if self._listeners is None:
            self._listeners = select.poll()
            for listener in self.sockets:
                self._listeners.register(listener.fileno(), select.POLLIN)
        if not self._listeners.poll(0):
            self._pending_since = None
            return False
        now = time.monotonic()
        if self._pending_since is None:
            self._pending_since = now
        return now - self._pending_since >= self.accept_grace

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        # Holding back with a connection seen waiting: wake when its grace ends, not at the
        # next finished request (which can be seconds away for a slow model). Only while the
        # grace lasts: past it the gate opens, or stays shut for gthread's own reasons (its
        # connection cap), and a zero wait would spin; shutting down, nothing is accepted.
        if self._pending_since is not None:
            if not self.alive:
                self._pending_since = None
            elif not self._accepting:
                left = self._pending_since + self.accept_grace - time.monotonic()
                if left > 0:
                    timeout = min(timeout, left)
        super().wait_for_and_dispatch_events(timeout)

    def enqueue_req(self, conn: Any) -> None:
        self.in_flight += 1
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.in_flight -= 1
        super().finish_request(conn, fs)

    def init_process(self) -> None:
        # gunicorn's worker base looks util.write_error up at call time; this process is a
        # worker of ours, so its error pages are ours too
        util.write_error = write_json_error
        super().init_process()

    def load_wsgi(self) -> None:
        # Without preload the model loads here, after the fork, and a framework can take longer
        # than the arbiter's heartbeat timeout to load: keep beating until it is done.
        loading = threading.Event()

        def beat() -> None:
            while not loading.wait(1.0):
                self.notify()

        heart = threading.Thread(target=beat, name="mlserve-load-heartbeat", daemon=True)
        heart.start()
        try:
            super().load_wsgi()
        finally:
            loading.set()
            heart.join()

    def accept(self, listener: Any) -> None:
        try:
            raw, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self._pending_since = None
        client_sock = DeadlineSocket(raw.family, raw.type, raw.proto, fileno=raw.detach())
        self.nr_conns += 1
        client_sock.setblocking(True)
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())
        self.enqueue_req(conn)

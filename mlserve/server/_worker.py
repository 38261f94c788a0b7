"""The one adapter over gunicorn's ``gthread`` worker: every override of its internals is here.

gthread accepts connections in an event loop and runs each request on one of ``--threads``
threads, which read the request from a blocking socket. What this worker changes, and why (each
override has a test in ``tests/server/test_worker.py`` that fails when gthread's internals move;
``setup.cfg`` allows exactly the gunicorn releases tested, 26.x and 27.x, whose differences are
handled where ``GTHREAD_26`` is read):

- **Requests are read in the event loop, not on a thread** (:meth:`~DeadlineThreadWorker.accept`,
  ``on_client_socket_readable``, ``wait_for_and_dispatch_events``). A thread reading a request
  is held for as long as the client takes: ten clients trickling their headers, or fifty
  trickling a body, held every thread and every valid request waited for ``--timeout``. Here a
  connection's bytes are gathered in the event loop until the request looks complete
  (:class:`~mlserve.server._loop_connections.LoopConnections`, into a
  :class:`~mlserve.server._reading.RequestBuffer`), under the time rule of
  :class:`~mlserve.server._reading.ReadPolicy` (a client too slow is disconnected, or answered 408
  when its body stalls), and only then handed to a thread, whose socket
  (:class:`~mlserve.server._reading.DeadlineSocket`) serves the bytes read ahead first.
- **Connections close without stalling the loop** (``finish_request``): gthread lingers on a
  closing connection for up to 2 s *on its event-loop thread* to read what the client still
  sends; a client that neither sends nor closes stopped the whole worker that long. Here the
  linger happens in the loop, without blocking it (``LoopConnections.close_gently``).
- **A stop closes the listening socket first** (``set_accept_enabled``): gthread keeps it open
  until its drain ends, so clients that connected meanwhile sat in the backlog and were reset
  when the worker exited (7-9 POSTs lost per stop under load). A stopping worker accepts what is
  already in the backlog, closes its listener (the arbiter closed its own copy first; the last
  close is made safe by :meth:`~DeadlineThreadWorker._plug_and_close`), and drains; a client
  connecting later is refused, which is safe to retry.
- **New connections go to a worker with a free thread** (``worker_connections``,
  ``enqueue_req``): see :class:`DeadlineThreadWorker`.
- **Keep-alive connections are re-spread** (``handle_request``): with siblings, a response on a
  connection older than :data:`ROTATE_AFTER` seconds says ``Connection: close``, so a client's
  next connection goes to a worker with a free thread; a replacement worker otherwise served
  nothing while every keep-alive client stayed on the survivor.
- Requests gunicorn refuses before they reach the application (a malformed request line or
  header, headers too large, a bad chunk) get our JSON error body instead of gunicorn's HTML
  page (``init_process``), with a fixed message per status: gunicorn's own text quotes the
  offending request bytes.

The event loop reads raw bytes, so TLS (gunicorn's ``certfile``) must stay off, as the runner
keeps it; put TLS in front, in a proxy or load balancer.
"""

from __future__ import annotations

import contextlib
import errno
import select
import selectors
import socket
import threading
import time
from functools import partial
from typing import Any, Protocol

import gunicorn
from gunicorn import util
from gunicorn.http.errors import LimitRequestLine
from gunicorn.workers import gthread
from gunicorn.workers.gthread import TConn, ThreadWorker

from mlserve.server._loop_connections import LoopConnections
from mlserve.server._raw_answers import write_json_error
from mlserve.server._reading import DeadlineSocket, ReadPolicy

__all__ = [
    "ROTATE_AFTER",
    "DeadlineSocket",
    "DeadlineThreadWorker",
    "PolicyCarrier",
    "read_policy_of",
    "write_json_error",
]

#: with sibling workers, a keep-alive connection older than this many seconds is closed after
#: its current response, so clients spread again over the workers (a replacement worker gets
#: its share within a few seconds); one reconnect per client every few seconds costs nothing
ROTATE_AFTER = 2.0

# gunicorn 26 and 27. setup.cfg allows both: 26 is the newest MLflow 3.17 allows (``gunicorn<27``),
# so mlserve's server installs next to MLflow; CI runs the contract tests and the server's
# real-process tests on each. gthread differs in three places under these overrides, each
# handled where marked ``GTHREAD_26``; tests/server/test_worker.py holds a contract row per
# version for each, so a 26.x or 27.x release that changes them fails there:
# 1. A stopping worker's kept-alive connections: 27 keeps each at most
#    ``STOP_KEEPALIVE_LINGER`` (2 s) into the drain, for a request the client may already be
#    sending, and its drain loop beats and wakes when the first one expires. 26 keeps those
#    idle at the stop their whole ``--keep-alive``, waits for the next event up to the whole
#    ``--graceful-timeout``, and closes a connection whose answer ends during the drain
#    gracefully in the event loop, which blocked the drain while the client stayed silent (a
#    SIGTERM during a request took the whole grace). ``_stop_listening``,
#    ``wait_for_and_dispatch_events`` and ``_keep_alive_briefly`` do 27's part on 26.
# 2. A request already read ahead on a kept-alive connection (pipelined behind the one just
#    answered, in the parser's buffer): 27 hands it straight back to a thread; 26 puts the
#    connection back in the poller, where bytes already read never make it readable, and the
#    request waited until the keep-alive timeout closed it unanswered (``finish_request``).
# 3. A request line longer than gunicorn's limit: 27 answers 414 (URI Too Long), 26 answers
#    400; this worker answers 414 on both (``handle_error``).
# Nothing else this worker relies on moved between 26.2 and 27.0 (the rest of gthread's diff is
# HTTP/2, shutdown of HTTP/2 streams, and a larger socket read for a body of known length).
#: True under gunicorn 26.x, whose gthread lacks what 27 does in the places above
GTHREAD_26 = gunicorn.version_info[0] < 27
#: how long a stopping worker keeps connections that have sent nothing (kept-alive, or being
#: read in the event loop) for a request a client may already be sending: gthread 27's value,
#: the same on 26, which has no such constant
STOP_LINGER: float = getattr(gthread, "STOP_KEEPALIVE_LINGER", 2.0)


class PolicyCarrier(Protocol):
    """What the worker needs of the gunicorn application it is given (``self.app``)."""

    #: how long a client may take to send a request, in every worker of this server
    read_policy: ReadPolicy


def read_policy_of(app: PolicyCarrier) -> ReadPolicy:
    """The read policy the gunicorn application ``app`` carries for its workers.

    Raises:
        TypeError: ``app`` carries none (this worker is meant for mlserve's own application).
    """
    policy = getattr(app, "read_policy", None)
    if not isinstance(policy, ReadPolicy):
        raise TypeError(f"{type(app).__name__} has no read_policy for DeadlineThreadWorker")
    return policy


class DeadlineThreadWorker(ThreadWorker):
    """``gthread`` reading requests in its event loop, accepting only with a free thread.

    Its :attr:`policy` is the gunicorn application's ``read_policy`` (``self.app``, which gunicorn
    hands every worker it forks: :class:`~mlserve.server._lifecycle.Lifecycle` builds it from the
    server's options), and each connection's :class:`DeadlineSocket` is given it when accepted;
    nothing global is set to configure a worker. Requests gunicorn refuses itself are answered
    by :func:`write_json_error`.

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
    #: how long a client may take to send a request (the application's ``read_policy``)
    policy: ReadPolicy
    #: the requests being read in the event loop and the connections closing (no thread)
    connections: LoopConnections

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = read_policy_of(self.app)
        self.connections = LoopConnections(self, self.policy)

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

    def enqueue_req(self, conn: Any) -> None:
        self.in_flight += 1
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.in_flight -= 1
        sock = conn.sock
        if isinstance(sock, DeadlineSocket):
            sock.request_done()
        if fs.cancelled() or fs.exception() is not None or not isinstance(fs.result(), bool):
            super().finish_request(conn, fs)  # gthread's own cases (a failure, a deferral)
        elif not fs.result():
            self.connections.close_gently(conn)
        else:
            ahead = sock.take_ahead() if isinstance(sock, DeadlineSocket) else b""
            if ahead:  # a pipelined request the event loop read: after what the parser holds
                conn.parser.unreader.buf.seek(0, 2)
                conn.parser.unreader.buf.write(ahead)
            if GTHREAD_26:  # 27 does both itself (see GTHREAD_26, 2. and 1.)
                if conn.parser.unreader.buf.getvalue():
                    self.enqueue_req(conn)
                    return
                if not self.alive:
                    self._keep_alive_briefly(conn)
                    return
            super().finish_request(conn, fs)  # keep-alive: back to the poller, or next request

    def _keep_alive_briefly(self, conn: Any) -> None:
        """gthread 27's keep-alive step for a stopping worker, on 26 (whose own closes the
        connection gracefully *in the event loop*, which blocked the drain for as long as the
        client stayed silent): the connection waits :data:`STOP_LINGER` at most for a request
        the client may already be sending, which is answered with ``Connection: close``."""
        conn.sock.setblocking(False)
        conn.set_timeout()
        conn.timeout = min(conn.timeout, time.monotonic() + STOP_LINGER)
        self.keepalived_conns.append(conn)  # the latest timeout yet: the deque stays sorted
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
        )

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        # a kept-alive connection's next request: read it here, as a new connection's
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self.connections.read_next(conn, client)

    def handle_request(self, req: Any, conn: Any) -> Any:
        # gthread calls this on the thread for each request of a connection
        if self.cfg.workers > 1 and time.monotonic() - conn.opened_at > ROTATE_AFTER:
            req.force_close()  # the answer says "Connection: close"
        return super().handle_request(req, conn)

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        # gthread disables accepting once, right after its loop ends on a stop
        if not enabled and not self.alive and self.connections.stop_by is None:
            self._stop_listening()

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.connections.close_all()

    def _stop_listening(self) -> None:
        """Take what waits in the backlog, then close the listeners (see the module doc)."""
        self.connections.begin_stop(STOP_LINGER)
        if GTHREAD_26:  # 27 caps them itself (see GTHREAD_26, 1.)
            until = time.monotonic() + STOP_LINGER
            for conn in self.keepalived_conns:  # sorted by timeout: capping keeps the order
                conn.timeout = min(conn.timeout, until)
        for listener in self.sockets:
            with contextlib.suppress(OSError):
                self._plug_and_close(listener)
            listener.close()

    def _plug_and_close(self, listener: Any) -> None:
        """Close ``listener`` without resetting a client that connects meanwhile.

        A connection whose handshake completes between the last accept and the close is reset
        by the close after its request was sent (1 in about 4 stops under load). So the backlog
        is cut to one connection (further handshakes are left unanswered; the client retries
        its SYN a second later and is refused), the backlog is drained, and a connection of our
        own takes the one place left: once it is in, no client can be, and the close resets
        only ours. If a client took the place first, it is accepted and we try again.
        """
        sock: socket.socket = getattr(listener, "sock", listener)
        listener.setblocking(False)
        sock.listen(0)  # Linux: one queued connection at most
        for _ in range(20):
            while self._accept_one(listener):
                pass
            with socket.socket(sock.family, socket.SOCK_STREAM) as plug:
                plug.setblocking(False)
                plug.connect_ex(sock.getsockname())
                _, writable, _ = select.select([], [plug], [], 0.05)
                if writable and not plug.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    return  # ours holds the place: closing now resets nobody else

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
        if GTHREAD_26 and not self.alive:  # 27's drain loop does this itself (GTHREAD_26, 1.)
            self.notify()
            timeout = min(timeout, 1.0)
            if self.keepalived_conns:
                first = self.keepalived_conns[0].timeout - time.monotonic()
                timeout = max(min(timeout, first), 0.0)
        # and wake for the first read deadline or closing linger that ends
        nearest = self.connections.nearest_deadline()
        if nearest is not None:
            timeout = max(min(timeout, nearest - time.monotonic()), 0.0)
        super().wait_for_and_dispatch_events(timeout)
        self.connections.expire()

    def accept(self, listener: Any) -> None:
        self._accept_one(listener)

    def _accept_one(self, listener: Any) -> bool:
        try:
            raw, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return False
        self._pending_since = None
        client_sock = DeadlineSocket(
            raw.family, raw.type, raw.proto, fileno=raw.detach(), policy=self.policy
        )
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())  # non-blocking
        conn.opened_at = time.monotonic()
        # read in the event loop: a thread is taken only by a complete request
        self.connections.read_new(conn, conn.opened_at)
        return True

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if GTHREAD_26 and isinstance(exc, LimitRequestLine):  # 27 answers 414 (GTHREAD_26, 3.)
            self.log.debug("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
            with contextlib.suppress(OSError):
                write_json_error(client, 414, "URI Too Long", "")
            return
        super().handle_error(req, client, addr, exc)

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

"""The gthread worker's accept policy, through real ``python -m mlserve.server --workers 2``
processes: a worker whose threads are all busy leaves new connections to the other, so
keep-alive clients spread over both workers."""

from __future__ import annotations

import collections
import concurrent.futures
import os
import re
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import gunicorn
import pytest
import requests
from gunicorn.arbiter import Arbiter
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers import base, gthread

from mlserve.server._reading import ReadPolicy
from mlserve.server._worker import DeadlineThreadWorker

from .helpers import SEED_BODY, start_server

ACCESS_PID = re.compile(r'<(\d+)> 127\.0\.0\.1 "POST /invocations HTTP/1\.1" 200 ')


@pytest.mark.slow
def test_keep_alive_clients_spread_over_both_workers(tmp_path: Path, seed_model_dir: Path) -> None:
    """16 clients, each on one keep-alive connection, all at once: each worker serves at least
    a quarter of the requests (gthread's default let one worker take up to 98% of them)."""
    clients, per_client = 16, 25
    with start_server(tmp_path, "-m", str(seed_model_dir), "-w", "2") as server:
        workers = server.wait_workers(2)

        def client() -> None:
            with requests.Session() as session:
                for _ in range(per_client):
                    response = session.post(server.url + "/invocations", json=SEED_BODY, timeout=30)
                    assert response.status_code == 200, response.text

        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            for done in [pool.submit(client) for _ in range(clients)]:
                done.result()
        time.sleep(0.2)  # the access log line is written after the response
        served = collections.Counter(int(pid) for pid in ACCESS_PID.findall(server.log()))
    assert sum(served.values()) == clients * per_client
    assert set(served) == set(workers)
    shares = {pid: count / (clients * per_client) for pid, count in served.items()}
    assert min(shares.values()) >= 0.25, shares


@pytest.mark.slow
def test_a_worker_with_every_thread_busy_leaves_new_connections_to_another(
    tmp_path: Path, sleepy_model_dir: Path
) -> None:
    """One thread per worker: while one worker predicts a slow request, a new connection is
    served at once by the other one instead of queueing behind the slow request."""
    args = ("-m", str(sleepy_model_dir), "-w", "2", "--threads", "1")
    with start_server(tmp_path, *args) as server:
        server.wait_workers(2)
        url = server.url + "/invocations"
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            for _ in range(3):  # a worker that accepted anyway would be caught half the time
                slow = pool.submit(requests.post, url, json={"inputs": [[1.5]]}, timeout=30)
                time.sleep(0.3)  # the slow request is being predicted by now
                started = time.monotonic()
                quick = requests.post(url, json={"inputs": [[0.0]]}, timeout=30)
                elapsed = time.monotonic() - started
                assert quick.status_code == 200
                assert elapsed < 0.8, f"the quick request waited {elapsed:.2f}s behind the slow"
                assert not slow.done(), "the slow request ended before the quick one was sent"
                assert slow.result().status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize(
    ("workers", "clients"), [(1, 2), (2, 4)], ids=["single-worker", "saturated-siblings"]
)
def test_busy_workers_still_accept_new_clients(
    tmp_path: Path, sleepy_model_dir: Path, workers: int, clients: int
) -> None:
    """Keep-alive clients keep every worker's only thread busy. A single worker has no sibling
    to leave a connection to; two saturated ones never have a free thread between them. Either
    way a new client must be accepted and served in its turn: holding new connections back
    starved them until the keep-alive clients stopped (3.55 s with one worker, 3.54 s with two,
    before each fix)."""
    args = ("-m", str(sleepy_model_dir), "-w", str(workers), "--threads", "1")
    with start_server(tmp_path, *args) as server:
        server.wait_workers(workers)
        url = server.url + "/invocations"
        hammering_until = time.monotonic() + 4.0

        def hammer() -> None:
            with requests.Session() as session:
                while time.monotonic() < hammering_until:
                    response = session.post(url, json={"inputs": [[0.05]]}, timeout=30)
                    assert response.status_code == 200, response.text

        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            busy = [pool.submit(hammer) for _ in range(clients)]
            time.sleep(0.5)  # the keep-alive clients are in their loop by now
            started = time.monotonic()
            response = requests.post(
                url, json={"inputs": [[0.0]]}, headers={"Connection": "close"}, timeout=30
            )
            waited = time.monotonic() - started
            for done in busy:
                done.result()
    assert response.status_code == 200
    assert waited < 1.5, f"a new client waited {waited:.2f} s behind the keep-alive clients"


class _App:
    """What the worker takes from its gunicorn application: the read policy."""

    read_policy = ReadPolicy()


class _CountedWorker(DeadlineThreadWorker):
    """The real worker, counting its event-loop waits."""

    waits = 0

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        self.waits += 1
        super().wait_for_and_dispatch_events(timeout)


@pytest.fixture
def held_back_worker() -> Iterator[tuple[_CountedWorker, socket.socket]]:
    """A worker of two, its only thread busy, with a client waiting in the listener's backlog
    that it has already seen (so it is holding back, grace running)."""
    cfg = Config()
    for key, value in (("workers", 2), ("threads", 1), ("graceful_timeout", 1)):
        cfg.set(key, value)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    worker = _CountedWorker(1, os.getppid(), [listener], _App(), 30, cfg, Logger(cfg))
    # what gthread's init_process sets up, without its signal handlers and app loading
    worker.tpool = worker.get_thread_pool()
    worker.poller = selectors.DefaultSelector()
    worker.method_queue.init()
    client = socket.create_connection(listener.getsockname())
    worker.in_flight = worker.nr_conns = 1
    time.sleep(0.05)
    assert worker.worker_connections == 0, "holding back: a sibling may take the client"
    try:
        yield worker, listener
    finally:
        client.close()
        listener.close()
        worker.tpool.shutdown(wait=False)
        worker.tmp.close()


def test_shutting_down_while_holding_back_does_not_spin(
    held_back_worker: tuple[_CountedWorker, socket.socket],
) -> None:
    """SIGTERM while a connection waits: the drain loop waits as gthread's does (it spun on
    zero-second waits until the grace period ended: 270,000 waits a second)."""
    worker, _ = held_back_worker
    worker.alive = False
    started = time.monotonic()
    worker.run()  # drains for graceful_timeout (1 s): one request is still counted in flight
    assert time.monotonic() - started < 3
    assert worker.waits < 20, f"{worker.waits} event-loop waits while draining"


def test_a_worker_at_its_connection_cap_does_not_spin(
    held_back_worker: tuple[_CountedWorker, socket.socket],
) -> None:
    """Past the grace, gthread's own connection cap can still keep the gate shut: the loop
    then waits its usual second (it spun on zero-second waits: 357,000 in 1.5 s)."""
    worker, _ = held_back_worker
    worker.worker_connections = worker.nr_conns = 2  # at the cap
    threading.Timer(0.5, setattr, (worker, "alive", False)).start()
    worker.run()
    assert worker.waits < 20, f"{worker.waits} event-loop waits in 0.5 s at the cap"


def test_a_seen_connection_is_accepted_once_its_grace_ends(
    held_back_worker: tuple[_CountedWorker, socket.socket],
) -> None:
    """The thread stays busy (no request finishes to wake the loop): the worker still accepts
    the waiting client when the grace ends, not at its next 1 s tick."""
    worker, _ = held_back_worker
    accepted: list[float] = []

    def accept(listener: socket.socket) -> None:
        accepted.append(time.monotonic())
        listener.accept()[0].close()
        worker.alive = False

    worker.accept = accept  # type: ignore[method-assign]
    started = time.monotonic()
    worker.nr_conns = 0
    worker.run()
    assert accepted, "never accepted"
    assert accepted[0] - started < 0.5, f"accepted after {accepted[0] - started:.2f} s"


# What DeadlineThreadWorker relies on in gunicorn's worker code, one row per override: the
# gunicorn function and the text in it that makes our override take effect. A row that fails
# means gunicorn's internals moved: re-read that function before widening the version pin.
CONTRACT = [
    ("accept", gthread.ThreadWorker.set_accept_enabled, "self.accept"),
    ("on_client_socket_readable", gthread.ThreadWorker.finish_request,
     "partial(self.on_client_socket_readable, conn)"),
    ("finish_request", gthread.ThreadWorker.enqueue_req,
     "self.method_queue.defer(self.finish_request, conn, fut)"),
    ("finish_request-read-ahead", gthread.ThreadWorker.finish_request,
     "conn.parser.unreader.buf.getvalue()"),
    ("finish_request-close", gthread.ThreadWorker.finish_request, "conn.close(graceful=True)"),
    ("handle_request", gthread.ThreadWorker.handle, "self.handle_request(req, conn)"),
    ("data_ready", gthread.ThreadWorker.handle, "not conn.data_ready"),
    ("setblocking-per-request", gthread.ThreadWorker.handle, "conn.sock.setblocking(True)"),
    ("set_accept_enabled-on-stop", gthread.ThreadWorker.run,
     "# Graceful shutdown: stop accepting but handle existing connections\n"
     "        self.set_accept_enabled(False)"),
    ("wait_for_and_dispatch_events", gthread.ThreadWorker.run,
     "self.wait_for_and_dispatch_events(timeout="),
    ("worker_connections", gthread.ThreadWorker.run, "self.nr_conns < self.worker_connections"),
    ("enqueue_req", gthread.ThreadWorker.on_pending_socket_readable, "self.enqueue_req(conn)"),
    ("run", base.Worker.init_process, "self.run()"),
    ("load_wsgi", base.Worker.init_process, "self.load_wsgi()"),
    ("write_error", base.Worker.handle_error, "util.write_error("),
    ("socket-reads", SocketUnreader.chunk, "self.sock.recv("),
    ("force_close", gthread.ThreadWorker.handle_request, "resp.should_close()"),
    # the read policy travels on the application object the arbiter hands each worker
    ("policy-on-app", Arbiter.spawn_worker, "self.app, self.timeout"),
    ("policy-on-app-kept", base.Worker.__init__, "self.app = app"),
    # lifecycle.GracefulArbiter: SIGINT drains (handle_int raising StopIteration reaches a
    # graceful halt), and a second HaltServer while halting is swallowed in reap_workers
    ("arbiter-handle_int", Arbiter.run, 'getattr(self, "handle_%s" % signame, None)'),
    ("arbiter-handle_int-halt", Arbiter.run, "except (StopIteration, KeyboardInterrupt):\n"
     "            self.halt()"),
    ("arbiter-halt-graceful", Arbiter.halt, "self.stop()\n"),
    ("arbiter-reap_workers", Arbiter.reap_workers, "raise HaltServer(reason, self.APP_LOAD_ERROR)"),
    ("arbiter-halt-on-HaltServer", Arbiter.run,
     "self.halt(reason=inst.reason, exit_status=inst.exit_status)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("override", "function", "text"), CONTRACT, ids=[row[0] for row in CONTRACT]
)
def test_gunicorn_internals_we_override_are_where_we_expect(
    override: str, function: object, text: str
) -> None:
    import inspect

    assert text in inspect.getsource(function), f"gunicorn moved what {override} relies on"


def test_the_gunicorn_version_is_inside_the_pinned_range() -> None:
    """setup.cfg pins gunicorn to the range the contract above was checked against."""
    assert (27, 0) <= gunicorn.version_info[:2] < (28, 0), gunicorn.__version__


def test_the_werkzeug_version_is_inside_the_pinned_range() -> None:
    """setup.cfg pins werkzeug (routing, wrappers, the body reader) to the range the server
    tests run on: 3.0 and 3.1."""
    from importlib.metadata import version

    major, minor = (int(part) for part in version("werkzeug").split(".")[:2])
    assert (3, 0) <= (major, minor) < (3, 2), version("werkzeug")

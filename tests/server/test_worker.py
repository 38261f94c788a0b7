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

# Where gthread 26 and 27 differ under the worker (mlserve/server/_worker.py, GTHREAD_26): per
# version, what the worker's version-specific code relies on. Under 27: what 27 does itself, so
# the worker leaves it to gthread; under 26: the code path the worker pre-empts or completes.
CONTRACT_BY_VERSION = {
    27: [
        # 1. a stopping worker's kept-alive connections last STOP_KEEPALIVE_LINGER, and the
        #    drain loop beats and wakes when the first one expires
        ("stop-linger", gthread.ThreadWorker.run,
         "self._cap_keepalive(time.monotonic() + STOP_KEEPALIVE_LINGER)"),
        ("stop-linger-value", gthread.ThreadWorker.run, "STOP_KEEPALIVE_LINGER"),
        ("drain-beats", gthread.ThreadWorker.run,
         "self.notify()\n            timeout = 1.0\n            if self.keepalived_conns:"),
        # 2. bytes read ahead on a kept-alive connection go straight back to a thread
        ("finish_request-read-ahead", gthread.ThreadWorker.finish_request,
         "if conn.parser.unreader.buf.getvalue():\n"
         "                    # A body drain can read ahead into the next request. Those\n"
         "                    # bytes no longer make the socket readable to the poller.\n"
         "                    self.enqueue_req(conn)"),
        # 3. a too-long request line is 414
        ("handle_error-414", base.Worker.handle_error,
         "elif isinstance(exc, LimitRequestLine):\n                mesg = \"%s\" % str(exc)\n"
         "                status_int = 414"),
    ],
    26: [
        # 1. the drain waits up to the whole grace without beating, for kept-alive connections
        #    that time out after --keep-alive (conn.timeout, read by murder_keepalived)
        ("stop-linger", gthread.ThreadWorker.run,
         "self.wait_for_and_dispatch_events(timeout=time_remaining)\n"
         "            self.murder_keepalived()"),
        ("keepalive-timeout", gthread.TConn.set_timeout,
         "self.timeout = time.monotonic() + self.cfg.keepalive"),
        ("murder_keepalived-reads-timeout", gthread.ThreadWorker.murder_keepalived,
         "delta = conn.timeout - now"),
        # ... and closes a connection answered during the drain gracefully, in the loop: the
        # worker keeps it instead with gthread's own keep-alive steps, copied from here
        ("finish_request-close-on-stop", gthread.ThreadWorker.finish_request,
         "elif result and self.alive:"),
        ("finish_request-keep-alive-steps", gthread.ThreadWorker.finish_request,
         "conn.sock.setblocking(False)\n                conn.set_timeout()\n"
         "                self.keepalived_conns.append(conn)\n"
         "                self.poller.register(conn.sock, selectors.EVENT_READ,\n"
         "                                     partial(self.on_client_socket_readable, conn))"),
        # 2. a kept-alive connection goes back to the poller whatever its parser holds
        ("finish_request-read-ahead", gthread.ThreadWorker.finish_request,
         "elif result and self.alive:\n"
         "                # Keepalive - put connection back in the poller"),
        # 3. a too-long request line reaches handle_error, which would answer 400
        ("handle_error-414", base.Worker.handle_error, "LimitRequestLine, LimitRequestHeaders,"),
        ("handle_error-414-from-handle", gthread.ThreadWorker.handle,
         "self.handle_error(req, conn.sock, conn.client, e)"),
    ],
}  # fmt: skip
#: the gunicorn majors the worker is written and tested for, and the oldest release tested
#: (.ci/run's gunicorn stage): setup.cfg allows exactly these
TESTED_MAJORS = sorted(CONTRACT_BY_VERSION)
OLDEST_TESTED = "26.2"
CONTRACT += CONTRACT_BY_VERSION.get(gunicorn.version_info[0], [])


@pytest.mark.parametrize(
    ("override", "function", "text"), CONTRACT, ids=[row[0] for row in CONTRACT]
)
def test_gunicorn_internals_we_override_are_where_we_expect(
    override: str, function: object, text: str
) -> None:
    import inspect

    assert text in inspect.getsource(function), f"gunicorn moved what {override} relies on"


def test_the_gunicorn_version_is_one_the_worker_is_tested_on() -> None:
    """The contract above has rows for this gunicorn major, and the worker's version switch
    agrees with it (CI runs this file under gunicorn 26.2.0 and 27.x)."""
    from mlserve.server import _worker

    assert gunicorn.version_info[0] in TESTED_MAJORS, gunicorn.__version__
    assert (gunicorn.version_info[0] == 26) == _worker.GTHREAD_26


def test_setup_cfg_allows_exactly_the_tested_gunicorn_majors() -> None:
    """The server and dev extras' gunicorn range is what is tested, no wider (a release outside
    it is contract-checked before the bound moves) and no narrower (26 is the newest MLflow
    3.17 allows: mlserve-core[server] must install next to it)."""
    import configparser

    from packaging.requirements import Requirement

    config = configparser.ConfigParser()
    config.read(Path(__file__).parents[2] / "setup.cfg")
    extras = config["options.extras_require"]
    expected = f">={OLDEST_TESTED},<{TESTED_MAJORS[-1] + 1}"
    for extra in ("server", "dev"):
        lines = [line for line in extras[extra].splitlines() if line.strip()]
        (gunicorn_line,) = [line for line in lines if line.strip().startswith("gunicorn")]
        specifier = Requirement(gunicorn_line.strip()).specifier
        assert specifier == type(specifier)(expected), (extra, str(specifier))


def test_the_werkzeug_version_is_inside_the_pinned_range() -> None:
    """setup.cfg pins werkzeug (routing, wrappers, the body reader) to the range the server
    tests run on: 3.0 and 3.1."""
    from importlib.metadata import version

    major, minor = (int(part) for part in version("werkzeug").split(".")[:2])
    assert (3, 0) <= (major, minor) < (3, 2), version("werkzeug")

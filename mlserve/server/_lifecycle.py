"""The production server's life under gunicorn, in named steps: load, fork, serve, drain, stop.

:func:`mlserve.server._runner.serve` decides *what* to run (which app, preloaded or not); this
module runs it. Each step is one method of :class:`Lifecycle`, called by gunicorn at that
point (its hooks), so the order of a server's life reads top to bottom:

1. **load**: the app is built before the fork (:meth:`Lifecycle.before_fork` then freezes it
   out of the garbage collector's reach and hands free heap back), or in each worker after it
   (:meth:`Lifecycle.load`, ``--no-preload`` and models that are not fork-safe).
2. **fork**: the arbiter forks ``--workers`` processes (:meth:`Lifecycle.post_fork`); a worker
   that dies is replaced (:meth:`Lifecycle.child_exit`).
3. **serve**: the listeners are open (:meth:`Lifecycle.when_ready` logs the ready line) and each
   worker serves (:meth:`Lifecycle.post_worker_init`; how a request gets a thread, a deadline
   and the model: :mod:`mlserve.server._concurrency`).
4. **drain**: on SIGTERM or SIGINT (:class:`GracefulArbiter`) every process closes its
   listening socket, then finishes its in-flight requests within ``--graceful-timeout``
   (:mod:`mlserve.server._worker`).
5. **stop**: a worker releases its prediction threads and exits at once
   (:meth:`Lifecycle.worker_exit`); the arbiter exits 0.

gunicorn is imported here at module level: import this module only to serve with it.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.errors import AppImportError, HaltServer

from mlserve.errors import MlserveError
from mlserve.server._reading import ReadPolicy
from mlserve.server._runner import _METRICS_DIR_ENV, ACCESS_LOG_FORMAT, JSON_ACCESS_LOG_FORMAT

if TYPE_CHECKING:
    from mlserve.server._app import ScoringApp
    from mlserve.server._config import ServerConfig
    from mlserve.server._metrics_port import MetricsPort

__all__ = ["GracefulArbiter", "Lifecycle", "gunicorn_options", "read_policy"]


def gunicorn_options(config: ServerConfig) -> dict[str, Any]:
    """The gunicorn settings for ``config`` (the hooks are :class:`Lifecycle`'s)."""
    options: dict[str, Any] = {
        # the metrics port is the parent's own (when_ready), not the workers'
        "bind": [_bind_address(config.host, config.port)],
        "workers": config.workers,
        # gthread plus a read deadline per request (mlserve.server._worker)
        "worker_class": "mlserve.server._worker.DeadlineThreadWorker",
        "threads": config.threads,
        "preload_app": config.preload,
        "keepalive": config.keepalive,
        "graceful_timeout": max(1, math.ceil(config.graceful_timeout)),
        # gthread's heartbeat comes from its event loop, not from requests, so this only
        # catches a worker whose loop is stuck; slow requests are --timeout's business
        "timeout": 30,
        "loglevel": config.log_level,
        "errorlog": "-",
        "accesslog": "-" if config.access_log else None,
        "access_log_format": (
            JSON_ACCESS_LOG_FORMAT if config.access_log_format == "json" else ACCESS_LOG_FORMAT
        ),
        "logger_class": "mlserve.server._access_log.AccessLogger",
        "proc_name": "mlserve",
        "control_socket_disable": True,
    }
    if os.path.isdir("/dev/shm"):
        # the heartbeat file lives in memory, so a slow disk cannot make a worker look dead
        options["worker_tmp_dir"] = "/dev/shm"
    return options


class GracefulArbiter(Arbiter):
    """gunicorn's arbiter, draining on SIGINT as on SIGTERM (step 4), and stopping once when
    every worker fails to load the model."""

    halting = False

    # gunicorn treats SIGINT as a quick shutdown; Ctrl-C should drain like SIGTERM
    def handle_int(self) -> None:
        raise StopIteration

    def halt(self, reason: str | None = None, exit_status: int = 0) -> None:
        self.halting = True
        super().halt(reason, exit_status)

    def reap_workers(self) -> None:
        try:
            super().reap_workers()
        except HaltServer:
            # every worker fails to load the same model: gunicorn would raise again for the
            # second one while already halting for the first (a traceback, no exit)
            if not self.halting:
                raise


class Lifecycle:
    """One server's steps (see the module doc); its methods are gunicorn's hooks.

    ``app`` is the app built before the fork, or ``None`` for one built in each worker by
    ``load_in_worker``.
    """

    def __init__(
        self,
        config: ServerConfig,
        app: ScoringApp | None,
        load_in_worker: Callable[[], ScoringApp] | None = None,
    ) -> None:
        if app is None and load_in_worker is None:
            raise ValueError("a Lifecycle needs an app or a load_in_worker function")
        self.config = config
        self.app = app
        self._load_in_worker = load_in_worker
        #: how long a client may take to send a request: every worker applies this one, handed
        #: to it by the gunicorn application (its ``read_policy``)
        self.read_policy = read_policy(config)
        #: the apps this process built or was given (a worker closes them when it stops)
        self.loaded: list[ScoringApp] = [app] if app is not None else []
        self._metrics_dir = os.environ.get(_METRICS_DIR_ENV) if config.metrics else None
        self._restarts = _restart_counter() if self._metrics_dir else None
        #: --metrics-port, served by the parent once it is ready (before any fork)
        self._metrics_port: MetricsPort | None = None

    # -- running --------------------------------------------------------------------------

    def run(self) -> int:
        """Serve until stopped: the steps in order, under gunicorn; returns the exit status."""
        self.before_fork()
        try:
            _Application(self).run()
        except SystemExit as exc:
            return int(exc.code or 0) if not isinstance(exc.code, str) else 1
        return 0

    def hooks(self) -> dict[str, Callable[..., Any]]:
        """The gunicorn server hooks, by setting name."""
        return {
            "when_ready": self.when_ready,
            "post_fork": self.post_fork,
            "post_worker_init": self.post_worker_init,
            "worker_exit": self.worker_exit,
            "child_exit": self.child_exit,
        }

    # -- 1. load ---------------------------------------------------------------------------

    def before_fork(self) -> None:
        """With a preloaded app, move what loading made out of the collector's reach and give
        free heap back (shared by every worker)."""
        if self.app is not None:
            # Everything loaded so far (modules, the model) is moved out of the garbage
            # collector's reach: a worker's full collection would otherwise write to every
            # inherited object and turn the pages it shares with the parent into private
            # copies (tens of MiB).
            gc.collect()
            gc.freeze()
            # Loading left free heap pages behind (import and unpickling garbage); handed
            # back now, they are not part of every worker's resident memory
            from mlserve.server._memory import release_free_memory

            release_free_memory()

    def load(self) -> Any:
        """The WSGI app a worker serves: the preloaded one, or one built here (a load failure
        stops the server, exit status 4, with the error as one line)."""
        if self.app is not None:
            return self.app
        assert self._load_in_worker is not None
        try:
            self.loaded.append(self._load_in_worker())
        except MlserveError as exc:  # gunicorn prints it as one line and stops the server
            raise AppImportError(f"mlserve: error: {exc}") from exc
        return self.loaded[-1]

    # -- 2. fork ---------------------------------------------------------------------------

    def post_fork(self, server: Any, worker: Any) -> None:
        from mlserve.server._memory import limit_arenas

        # fewer malloc arenas: large requests leave less free memory held (memory.py)
        limit_arenas()
        if self._metrics_port is not None:
            self._metrics_port.close_in_child()  # the parent serves it

    def child_exit(self, server: Any, worker: Any) -> None:
        """A worker is gone (stopped, or died and about to be replaced)."""
        if self._metrics_dir:
            from mlserve.server._metrics_files import worker_died

            worker_died(Path(self._metrics_dir), worker.pid)
        if self._restarts is not None and not server.halting:
            self._restarts.inc()

    # -- 3. serve --------------------------------------------------------------------------

    def when_ready(self, server: Any) -> None:
        """The listeners are open: say where (with a preloaded app, it is ready now)."""
        if self.config.metrics_port is not None and self._metrics_dir:
            from mlserve.server._metrics_port import MetricsPort

            self._metrics_port = MetricsPort(
                self.config.host, self.config.metrics_port, Path(self._metrics_dir)
            )
            self._metrics_port.start()
            server.log.info("mlserve: metrics at http://%s/metrics", self._metrics_port.address)
        elif self.config.metrics_port is not None:
            server.log.warning("mlserve: --metrics-port is not opened: metrics are off")
        if self.app is not None:
            self._ready_line(server.log, server.LISTENERS, self.app)
        else:  # ready once a worker has loaded the model (post_worker_init)
            addresses = ", ".join(_listener_address(lst) for lst in server.LISTENERS)
            server.log.info("mlserve: listening on %s; workers are loading the model", addresses)

    def post_worker_init(self, worker: Any) -> None:
        # Ctrl-C reaches the workers too (same process group): drain, do not drop requests
        signal.signal(signal.SIGINT, worker.handle_exit)
        signal.siginterrupt(signal.SIGINT, False)
        if self.app is None and worker.age == 1 and self.loaded:  # the arbiter's first fork
            self._ready_line(worker.log, worker.sockets, self.loaded[0])

    def _ready_line(self, log: Any, listeners: Any, served: ScoringApp) -> None:
        config = self.config
        addresses = ", ".join(f"http://{_listener_address(lst)}" for lst in listeners)
        batching = (
            f", batches of up to {config.max_batch_size} rows" if served.batcher is not None else ""
        )
        log.info(
            "mlserve: serving %s at %s (%d worker(s) x %d thread(s), timeout %gs%s)",
            _served(config), addresses, config.workers, config.threads, config.timeout, batching,
        )  # fmt: skip

    # -- 4. drain: GracefulArbiter and mlserve.server._worker ---------------------------------

    # -- 5. stop ---------------------------------------------------------------------------

    def worker_exit(self, server: Any, worker: Any) -> None:
        """The last thing a worker runs: release its threads and exit at once."""
        if os.getpid() != worker.pid:
            return  # gunicorn also calls this in the arbiter, for a worker already gone
        for served in self.loaded:
            served.close()
        # Exit now, with the status gunicorn was exiting with, as multiprocessing does in
        # forked children. The parent's atexit handlers are not the worker's to run, and
        # freeing the model's heap object by object delays a restart or a shutdown by seconds.
        exiting = sys.exc_info()[1]
        status = exiting.code if isinstance(exiting, SystemExit) else (1 if exiting else 0)
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(status if isinstance(status, int) else (0 if status is None else 1))


class _Application(BaseApplication):
    """gunicorn embedded: its settings and hooks from a :class:`Lifecycle`, no config file.

    gunicorn gives this object to every worker it forks (``worker.app``): what a worker needs
    beyond gunicorn's own settings travels on it, explicitly (the ``read_policy`` of
    :class:`mlserve.server._worker.PolicyCarrier`), not in class attributes set before the fork.
    """

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self.read_policy: ReadPolicy = lifecycle.read_policy
        super().__init__(prog="mlserve")

    def load_config(self) -> None:
        options = {**gunicorn_options(self.lifecycle.config), **self.lifecycle.hooks()}
        for key, value in options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self.lifecycle.load()

    def run(self) -> None:
        GracefulArbiter(self).run()


def read_policy(config: ServerConfig) -> ReadPolicy:
    """How long a client may take to send a request, from the server's options."""
    return ReadPolicy(
        header_timeout=config.header_timeout,
        min_body_rate=config.min_body_rate,
        timeout=config.timeout or None,
        max_body_size=config.max_body_size,
    )


def _served(config: ServerConfig) -> str:
    """What the ready line says is served: the URI, or ``name=URI, ...`` for named models."""
    if not config.models or config.models == ((None, config.model_uri),):
        return config.model_uri
    return ", ".join(f"{name}={uri}" for name, uri in config.models)


def _restart_counter() -> Any:
    """The parent's count of replaced workers (None without prometheus_client)."""
    try:
        from mlserve.server._metrics import WorkerMetrics

        return WorkerMetrics().restarts
    except ImportError:
        return None


def _bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _listener_address(listener: Any) -> str:
    host, port = listener.sock.getsockname()[:2]
    return _bind_address(host, port)

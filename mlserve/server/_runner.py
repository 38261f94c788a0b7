"""The production runner: load the model once, then serve it with gunicorn's pre-fork workers.

The model is loaded in the parent (gunicorn's arbiter) before any worker exists; workers are
forked from it and share the model's memory copy-on-write. gunicorn is embedded through its
``BaseApplication`` (no shell-out, no config file, no ``GUNICORN_CMD_ARGS``), with the
``gthread`` worker (plus a read deadline per request, :mod:`mlserve.server._worker`); why this
and not the ``sync`` worker is in ``docs/serving.md``.

How a server starts (its environment, ``--dev``, preloaded or loaded in each worker, restarted
for a model that is not fork-safe) is one decision table, :func:`start_mode`; :func:`serve`
carries the chosen mode out. A model whose predictor declares ``Capabilities(fork_safe=False)``
is only known as such once loaded, so the parent re-executes its own command line with
``MLSERVE_PRELOAD=false`` and the fresh parent forks workers that load it themselves.

This module decides how the server starts; :mod:`mlserve.server._loading` loads the models and
builds the app; :mod:`mlserve.server._lifecycle` runs it under gunicorn in named steps (load,
fork, serve, drain, stop).
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from mlserve.errors import MissingExtra, MlserveError
from mlserve.server._loading import _PINNED_DIR_ENV, _REPOSITORY_STATE_ENV, load_app

if TYPE_CHECKING:
    from mlserve.server._app import ScoringApp
    from mlserve.server._config import ServerConfig

__all__ = [
    "ACCESS_LOG_FORMAT",
    "JSON_ACCESS_LOG_FORMAT",
    "StartMode",
    "check_address",
    "run_gunicorn",
    "serve",
    "start_mode",
]

logger = logging.getLogger("mlserve.server")


# time, worker pid, client, request line, status, response bytes, duration in seconds (written
# by mlserve.server._access_log.AccessLogger without gunicorn's format machinery)
ACCESS_LOG_FORMAT = '%(t)s %(p)s %(h)s "%(r)s" %(s)s %(B)s %(L)ss %({x-request-id}o)s'
#: --access-log-format json: one JSON object per line (mlserve.server._access_log)
JSON_ACCESS_LOG_FORMAT = "json"

# set by the runner when it re-executes itself for a model that is not fork-safe; also the
# --no-preload option's variable (config.py)
_PRELOAD_ENV = "MLSERVE_PRELOAD"
# the server's metrics directory, made by its first process and kept by a re-executed parent
_METRICS_DIR_ENV = "MLSERVE_METRICS_DIR"


class StartMode(enum.Enum):
    """How a server starts: the rows of :func:`start_mode`'s table."""

    #: build the model's environment (``--env-manager``), then run the server inside it
    IN_ENVIRONMENT = "in-environment"
    #: load here, serve with werkzeug's single-process development server (``--dev``)
    DEV = "dev"
    #: gunicorn, each worker loading the models after the fork (``--no-preload``)
    LOAD_IN_WORKERS = "load-in-workers"
    #: a model loaded here is not fork-safe: re-execute as LOAD_IN_WORKERS, pinned to its files
    RESTART_WITHOUT_PRELOAD = "restart-without-preload"
    #: load here, then fork gunicorn's workers, which share the models copy-on-write
    PRELOAD = "preload"


def start_mode(
    config: ServerConfig, environ: Mapping[str, str], *, fork_safe: bool | None = None
) -> StartMode:
    """How a server with ``config`` starts, in a process whose environment is ``environ``.

    ``fork_safe`` is whether every model this process loaded declares it can be forked
    (``None``: nothing loaded yet, so PRELOAD means "load here first, then ask again"). The
    first row that matches decides; the function reads nothing else and does nothing:

    ===  ===============================================  =========================
    row  when                                             mode
    ===  ===============================================  =========================
    1    ``--env-manager`` is not ``local``               IN_ENVIRONMENT
    2    ``--dev``                                        DEV
    3    ``--no-preload``, or ``MLSERVE_PRELOAD=false``   LOAD_IN_WORKERS
         in ``environ`` (also a re-executed parent)
    4    a model loaded here is not fork-safe             RESTART_WITHOUT_PRELOAD
    5    otherwise                                        PRELOAD
    ===  ===============================================  =========================
    """
    if config.env_manager != "local":
        return StartMode.IN_ENVIRONMENT
    if config.dev:
        return StartMode.DEV
    # "false" in the environment, whatever the config says, is a re-executed parent: never
    # load twice
    if not config.preload or environ.get(_PRELOAD_ENV) == "false":
        return StartMode.LOAD_IN_WORKERS
    if fork_safe is False:
        return StartMode.RESTART_WITHOUT_PRELOAD
    return StartMode.PRELOAD


def serve(config: ServerConfig) -> int:
    """Load the model named by ``config`` and serve it until stopped; returns the exit status.

    Carries out :func:`start_mode`'s decision (the table is also in ``docs/serving.md``).

    Raises:
        MlserveError: the address is taken, the URI is wrong, the model fails to load, or the
            ``server`` extra is missing. The callers print it as one line.
    """
    environ = dict(os.environ)  # as started: loading a framework may change os.environ
    _configure_logging(config.log_level)
    mode = start_mode(config, environ)
    if mode is StartMode.IN_ENVIRONMENT:  # the model's own environment (_in_env.py)
        from mlserve.server._in_env import serve_in_environment

        serve_in_environment(config)  # builds it, then replaces this process
    config = _prepare(config, environ, gunicorn=mode is not StartMode.DEV)
    if mode is StartMode.LOAD_IN_WORKERS:
        logger.info("Loading the model in each worker (no preload): memory is per worker.")
        _announce_trust(config)
        no_preload = replace(config, preload=False)
        return run_gunicorn(None, no_preload, load_in_worker=lambda: load_app(config))
    app = load_app(config)
    _announce_trust(config)
    fork_safe = all(s.model.capabilities.fork_safe for s in app.models.values())
    mode = start_mode(config, environ, fork_safe=fork_safe)
    if mode is StartMode.DEV:
        return _run_dev(app, config)
    if mode is StartMode.RESTART_WITHOUT_PRELOAD:
        _restart_without_preload(environ, [s.model.path for s in app.models.values()])
    return run_gunicorn(app, config)


def _prepare(config: ServerConfig, environ: dict[str, str], *, gunicorn: bool) -> ServerConfig:
    """What every mode but IN_ENVIRONMENT does before loading: ``config`` with its trust policy
    resolved, the addresses checked, and the files shared by the server's processes named
    (the metrics directory under gunicorn, the repository extension's state file)."""
    # resolved once, here: the parent, a re-executed parent and every worker load under the
    # one policy this start-up line names
    import mlserve

    config = replace(config, trust=config.trust or mlserve.TrustPolicy.from_environment())
    if gunicorn:
        _require_gunicorn()
    check_address(config.host, config.port)
    if config.metrics_port is not None:
        check_address(config.host, config.metrics_port)
    if config.metrics and gunicorn:
        _metrics_directory(environ)
    if config.enable_repository and not os.environ.get(_REPOSITORY_STATE_ENV):
        import tempfile

        state = Path(tempfile.mkdtemp(prefix="mlserve-repository-")) / "models.json"
        os.environ[_REPOSITORY_STATE_ENV] = environ[_REPOSITORY_STATE_ENV] = str(state)
    return config


def _metrics_directory(environ: dict[str, str]) -> Path:
    """The server's metrics directory (metrics_files.py), named in ``MLSERVE_METRICS_DIR`` for
    this process and every worker before the app (and its metrics) exists, and removed when
    this process exits; a parent that re-executes itself keeps its own."""
    from mlserve.server import _metrics_files as metrics_files

    inherited = os.environ.get(_METRICS_DIR_ENV)
    if inherited and Path(inherited).is_dir():
        path = Path(inherited)
    else:
        path = metrics_files.prepare()
        os.environ[_METRICS_DIR_ENV] = environ[_METRICS_DIR_ENV] = str(path)
    atexit.register(metrics_files.remove, path)
    return path


def _announce_trust(config: ServerConfig) -> None:
    """The one start-up line naming the trust policy, once the model loaded (a start-up that
    fails stays one line on stderr, and a refusal names the policy itself); not again in a
    parent that re-executed itself, which said it before."""
    if config.trust is not None and not os.environ.get(_PINNED_DIR_ENV):
        logger.info("%s", config.trust.describe())


def _restart_without_preload(environ: Mapping[str, str], model_dirs: list[Path]) -> NoReturn:
    """Replace this process (same PID, same command line) by one that loads the models in each
    worker: this one has started a model's framework, which its forked children would inherit
    broken. Every model is then loaded in each worker, pinned to the directory resolved here."""
    logger.info(
        "The model declares it is not fork-safe: restarting to load it in each worker instead."
    )
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    argv = [sys.executable, *sys.orig_argv[1:]]
    pinned = {_PRELOAD_ENV: "false", _PINNED_DIR_ENV: json.dumps([str(d) for d in model_dirs])}
    os.execve(sys.executable, argv, {**environ, **pinned})


def check_address(host: str, port: int) -> None:
    """Fail early, with one line, when ``host:port`` cannot be bound.

    gunicorn would retry for several seconds and log a stack of lines; checking before the
    model loads also saves the load time. Port 0 is always free.
    """
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise MlserveError(f"Cannot listen on {host}:{port}: {exc.strerror}") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise MlserveError(f"Cannot listen on {host}:{port}: {exc.strerror}") from exc


def _require_gunicorn() -> None:
    try:
        import gunicorn  # noqa: F401
    except ImportError as exc:
        raise MissingExtra("The production server", "server", "gunicorn") from exc


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S %z",
    )
    logging.getLogger("mlserve").setLevel(level.upper())


def run_gunicorn(
    app: ScoringApp | None,
    config: ServerConfig,
    *,
    load_in_worker: Callable[[], ScoringApp] | None = None,
) -> int:
    """Serve ``app`` with gunicorn until SIGTERM/SIGINT; returns the exit status.

    With ``app`` ``None`` (and ``config.preload`` false), each worker builds its own app with
    ``load_in_worker`` after the fork; a load failure stops the server (exit status 4) with
    the error as one line. The steps (load, fork, serve, drain, stop) are
    :class:`mlserve.server._lifecycle.Lifecycle`'s.
    """
    from mlserve.server._lifecycle import Lifecycle

    return Lifecycle(config, app, load_in_worker).run()


def _run_dev(app: ScoringApp, config: ServerConfig) -> int:
    """werkzeug's development server: one process, one thread per request, no pre-fork."""
    from werkzeug.serving import run_simple

    logger.warning("Development server (--dev): not for production; use the default runner.")
    run_simple(config.host, config.port, app, threaded=True, use_reloader=False)
    return 0

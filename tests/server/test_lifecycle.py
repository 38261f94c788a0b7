"""The server's lifecycle (mlserve/server/_lifecycle.py) as gunicorn sees it: every hook and
option is one of gunicorn's settings, so a hook gunicorn renames fails here, not at a server's
start-up; and the read policy reaches the workers on gunicorn's application object, never
through a global. The steps themselves run in the real-server tests (test_runner.py and
test_hostile_clients.py, where a server's --header-timeout is what its workers apply)."""

from __future__ import annotations

import os
import selectors
import socket

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from mlserve.server._config import ServerConfig
from mlserve.server._lifecycle import Lifecycle, _Application, gunicorn_options
from mlserve.server._reading import DeadlineSocket, ReadPolicy
from mlserve.server._worker import DeadlineThreadWorker, read_policy_of


def test_every_hook_and_option_is_a_gunicorn_setting() -> None:
    settings = Config().settings
    lifecycle = Lifecycle(ServerConfig(model_uri="m"), None, load_in_worker=lambda: None)  # type: ignore[arg-type,return-value]
    for name, hook in lifecycle.hooks().items():
        assert name in settings, f"gunicorn has no {name} hook"
        assert callable(hook)
    for name in gunicorn_options(ServerConfig(model_uri="m", metrics_port=9000)):
        assert name in settings, f"gunicorn has no {name} setting"


def test_a_lifecycle_needs_an_app_or_a_way_to_load_one() -> None:
    with pytest.raises(ValueError, match="an app or a load_in_worker"):
        Lifecycle(ServerConfig(model_uri="m"), None)


def test_a_worker_applies_the_read_policy_its_application_carries() -> None:
    """The policy built from the options rides on the gunicorn application, which the arbiter
    hands each worker it forks; the worker and every connection it accepts apply it, and no
    class attribute was set along the way."""
    config = ServerConfig(
        model_uri="m", header_timeout=3, min_body_rate=2048, timeout=7, max_body_size=1000
    )
    lifecycle = Lifecycle(config, None, load_in_worker=lambda: None)  # type: ignore[arg-type,return-value]
    application = _Application(lifecycle)
    expected = ReadPolicy(header_timeout=3, min_body_rate=2048, timeout=7, max_body_size=1000)
    assert application.read_policy == expected
    lifecycle.before_fork()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    cfg = application.cfg
    # as gunicorn's arbiter makes a worker (Arbiter.spawn_worker): the application is its app
    worker = DeadlineThreadWorker(1, os.getpid(), [listener], application, 30, cfg, Logger(cfg))
    worker.poller = selectors.DefaultSelector()
    try:
        assert worker.policy is application.read_policy
        with socket.create_connection(listener.getsockname()):
            worker.accept(listener)
            (conn,) = worker.connections.reading
            assert isinstance(conn.sock, DeadlineSocket)
            assert conn.sock.policy is application.read_policy
            conn.close()
    finally:
        listener.close()
        worker.tmp.close()
    for cls in (DeadlineThreadWorker, DeadlineSocket):
        assert "policy" not in vars(cls), f"{cls.__name__}.policy is global configuration"


def test_a_worker_given_an_application_without_a_read_policy_refuses_to_start() -> None:
    with pytest.raises(TypeError, match="no read_policy"):
        read_policy_of(object())  # type: ignore[arg-type]

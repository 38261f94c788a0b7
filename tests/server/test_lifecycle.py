"""The server's lifecycle (mlserve/server/_lifecycle.py) as gunicorn sees it: every hook and
option is one of gunicorn's settings, so a hook gunicorn renames fails here, not at a server's
start-up. The steps themselves run in the real-server tests (test_runner.py and
test_hostile_clients.py)."""

from __future__ import annotations

import pytest
from gunicorn.config import Config

from mlserve.server._config import ServerConfig
from mlserve.server._lifecycle import Lifecycle, gunicorn_options


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

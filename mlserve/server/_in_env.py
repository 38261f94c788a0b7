"""``--env-manager uv|virtualenv``: serve the model from inside its own environment.

The environment is built (or found in the cache) by :func:`mlserve.env.prepare_environment`
before anything listens, so a model whose requirements do not resolve fails with the resolver's
message and no port is ever opened. Then this process is replaced (same PID, so a supervisor's
signals still reach the server) by ``<env>/bin/python -m mlserve.server`` with the same options
and ``--env-manager local``. The options go on the new command line in full and the ``MLSERVE_*``
option variables are dropped, so the new process sees exactly the configuration this one
resolved; the model directory the URI resolved to is pinned, so a ``models:/<name>/latest`` that
moves meanwhile does not swap the model under the environment built for it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, NoReturn

from mlserve.errors import MlserveError

if TYPE_CHECKING:
    from mlserve.server._config import ServerConfig

__all__ = ["config_argv", "serve_in_environment"]

logger = logging.getLogger("mlserve.server")

# the runner's: the model directory a re-executed server loads instead of resolving the URI
# (the JSON-list form, one per -m, and the older single-directory form)
_PINNED_DIRS_ENV = "MLSERVE_PINNED_MODEL_DIRS"
_PINNED_DIR_ENV = "MLSERVE_PINNED_MODEL_DIR"


def config_argv(config: ServerConfig) -> list[str]:
    """The ``python -m mlserve.server`` arguments that give back ``config`` (defaults left
    out: the new process starts without the ``MLSERVE_*`` variables that could change them)."""
    from mlserve.server._config import OPTIONS

    argv: list[str] = []
    for opt in OPTIONS:
        flag = next(f for f in reversed(opt.flags) if f.startswith("--"))
        value = getattr(config, opt.dest)
        if opt.dest == "model_uri":
            for name, uri in config.models or ((None, config.model_uri),):
                argv += [flag, f"{name}={uri}" if name else uri]
        elif value is None or value == opt.default:
            continue
        elif opt.is_flag:
            argv.append(flag)
        elif opt.dest == "trust":
            argv += [flag, value.spec]
        else:
            argv += [flag, str(value)]
    return argv


def serve_in_environment(config: ServerConfig) -> NoReturn:
    """Build (or reuse) the model's environment and re-execute the server inside it.

    Raises the errors of :func:`mlserve.env.prepare_environment` (the callers print them as
    one line), and :class:`~mlserve.errors.MlserveError` for several models: each model has its
    own environment, so serve each one in its own server.
    """
    import mlserve
    from mlserve.env import prepare_environment
    from mlserve.server._config import OPTIONS

    if len(config.models) > 1:
        raise MlserveError(
            f"--env-manager {config.env_manager} serves one model in its own environment; "
            "start one server per model, or use --env-manager local"
        )
    trust = config.trust or mlserve.TrustPolicy.from_environment()
    env = prepare_environment(
        config.model_uri,
        config.env_manager,
        tracking_uri=config.tracking_uri,
        extras=["scan"] if trust.scan_pickles else [],  # --trust scan needs picklescan there
    )
    argv = [
        str(env.python),
        "-m",
        "mlserve.server",
        *config_argv(replace(config, env_manager="local", trust=trust)),
    ]
    dropped = {opt.env for opt in OPTIONS} | {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    environ = {k: v for k, v in os.environ.items() if k not in dropped}
    environ[_PINNED_DIRS_ENV] = json.dumps([str(env.model_dir)])
    environ[_PINNED_DIR_ENV] = str(env.model_dir)
    environ["VIRTUAL_ENV"] = str(env.path)
    how = "built" if env.built else "cached"
    logger.info("Serving the model in its own environment (%s, %s): %s", how, env.manager, env.path)
    logger.info("%s", trust.describe())  # the re-executed server does not repeat it
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os.execve(argv[0], argv, environ)

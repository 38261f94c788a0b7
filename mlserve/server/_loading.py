"""Loading the models a server is started with, and building the app that serves them.

:func:`load_app` loads every ``-m NAME=URI`` under the server's trust policy (or, in a parent
that re-executed itself for a model that is not fork-safe, from the directories its first load
resolved: :data:`_PINNED_DIR_ENV`), measures what each load took, and builds the
:class:`~mlserve.server._app.ScoringApp`. A load failure of foreign type becomes one
:class:`~mlserve.errors.MlserveError` line naming the model.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlserve.errors import MlserveError

if TYPE_CHECKING:
    from mlserve import PyFuncModel
    from mlserve.server._app import ScoringApp
    from mlserve.server._config import ServerConfig

__all__ = ["load_app"]

logger = logging.getLogger("mlserve.server")

# set only by a parent that re-executes itself: the model directories its URIs resolved to (a
# JSON list, in -m order), so every worker loads those exact versions even if
# ``models:/<name>/latest`` moves meanwhile
_PINNED_DIR_ENV = "MLSERVE_PINNED_MODEL_DIRS"
# the V2 repository extension's state file, made once by the first process of a server and
# inherited by a re-executed parent and every worker (which with --no-preload build their own
# app, and must still share one file)
_REPOSITORY_STATE_ENV = "MLSERVE_REPOSITORY_STATE"


def load_app(config: ServerConfig) -> ScoringApp:
    """Load the model (or every ``-m NAME=URI``) and build the WSGI app, turning every load
    failure into an MlserveError naming the model.

    An exception that is not ours (a pickle that needs a missing module, say) is wrapped in a
    one-line :class:`~mlserve.errors.MlserveError`; its traceback is logged at debug level.
    """
    import mlserve
    from mlserve.codecs import DecodeLimits
    from mlserve.server._app import create_app
    from mlserve.server._model_limits import ModelLimits, measure_load

    if config.tracking_uri:
        mlserve.set_tracking_uri(config.tracking_uri)
    pinned = json.loads(os.environ.get(_PINNED_DIR_ENV) or "[]")
    specs = config.models or ((None, config.model_uri),)
    models = {}
    sizes = []  # what each load took (model_limits.py), reported per model
    load_seconds: list[float] = []
    for i, (name, uri) in enumerate(specs):
        pin = pinned[i] if len(pinned) == len(specs) else None
        started = time.perf_counter()
        model, size = measure_load(functools.partial(_load_one, uri, pin, config))
        models[name or ""] = model
        sizes.append(size)
        load_seconds.append(time.perf_counter() - started)
    state, loader = _repository_options(config)
    build = functools.partial(
        create_app,
        max_body_size=config.max_body_size,
        timeout=config.timeout,
        threads=config.threads,
        max_batch_size=config.max_batch_size,
        max_batch_delay_ms=config.max_batch_delay_ms,
        limits=DecodeLimits(
            config.max_columns or None, config.max_rows or None, config.max_request_memory or None
        ),
        repository=state,
        loader=loader,
        model_limits=ModelLimits(config.max_models, config.max_memory),
        model_memory=sizes,
        metrics=config.metrics,
    )
    build = functools.partial(_record_loads, build, load_seconds)
    if len(models) == 1 and "" in models:
        return build(models[""])
    if len(models) == 1:  # one named model: its name, and its version from its URI
        from mlserve.server._v2 import model_identity

        ((name, model),) = models.items()
        return build(model, name=name, version=model_identity(config.model_uri)[1])
    return build(models)


def _record_loads(
    build: Callable[..., ScoringApp], seconds: list[float], *args: Any, **kwargs: Any
) -> ScoringApp:
    """``build(*args, **kwargs)``, then the models' load times and memory in its metrics."""
    app = build(*args, **kwargs)
    if app.metrics is not None:
        for served, took in zip(app.models.values(), seconds, strict=False):
            app.metrics.model_loaded(served.name, served.version, took, served.memory)
    return app


def _repository_options(
    config: ServerConfig,
) -> tuple[Path | None, Callable[[str], PyFuncModel] | None]:
    """The state file and loader of the V2 repository extension, when it is on.

    The file is named once per server (:func:`serve`; here, for an app built without it), so
    every worker shares it; each load through the extension obeys the server's trust policy, as
    the models given with -m do.
    """
    if not config.enable_repository:
        return None, None
    named = os.environ.get(_REPOSITORY_STATE_ENV)
    if named:
        state = Path(named)
    else:
        import tempfile

        state = Path(tempfile.mkdtemp(prefix="mlserve-repository-")) / "models.json"

    def loader(uri: str) -> PyFuncModel:
        return _load_one(uri, None, config)

    return state, loader


def _load_one(uri: str, pinned: str | None, config: ServerConfig) -> PyFuncModel:
    import mlserve

    try:
        if pinned:
            model = mlserve.PyFuncModel.from_directory(pinned, model_uri=uri, trust=config.trust)
        else:
            model = mlserve.load_model(uri, trust=config.trust)
    except MlserveError:
        raise
    except Exception as exc:
        logger.debug("Loading %s failed", uri, exc_info=True)
        raise MlserveError(f"Cannot load model {uri!r}: {type(exc).__name__}: {exc}") from exc
    if not model.verified:
        logger.warning(
            "The model %s has no recorded digests (MLflow writes none): its files are not "
            "verified. Models saved by mlserve carry them; see docs/security.md",
            uri,
        )
    return model

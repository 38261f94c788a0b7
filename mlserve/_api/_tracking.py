"""The tracking API: runs, ``log_model`` and ``register_model``, as MLflow's fluent API has them.

The active run is kept per thread: ``with mlserve.start_run():`` in one thread does not change
what ``mlserve.active_run()`` returns in another. User guide: ``docs/tracking.md``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from types import TracebackType
from typing import Any

from mlserve._uri import RunsURI, parse_model_uri
from mlserve.errors import InvalidParameterValue, ResourceAlreadyExists
from mlserve.mlmodel import Model, ModelInfo
from mlserve.store._names import validate_artifact_path
from mlserve.store._registry import ModelVersion, Registry
from mlserve.store._runs import Run, RunData, RunInfo, RunStore
from mlserve.store._tracking import get_tracking_uri, set_tracking_uri

__all__ = [
    "ActiveRun",
    "active_run",
    "end_run",
    "get_tracking_uri",
    "log_model",
    "log_param",
    "register_model",
    "set_tag",
    "set_tracking_uri",
    "start_run",
]


class ActiveRun:
    """A run started by :func:`start_run`; a context manager that ends the run on exit.

    ``info`` and ``data`` always show the latest state this process wrote (``info.status`` is
    ``FINISHED`` after a clean ``with`` block, ``FAILED`` if it raised, ``KILLED`` on Ctrl-C).
    """

    def __init__(self, run: Run, runs: RunStore) -> None:
        self._run = run
        self._runs = runs

    def __repr__(self) -> str:
        return f"<ActiveRun run_id={self.info.run_id!r} status={self.info.status!r}>"

    @property
    def info(self) -> RunInfo:
        """``run_id``, ``run_name``, ``start_time``, ``end_time``, ``status``, ``artifact_uri``."""
        return self._run.info

    @property
    def data(self) -> RunData:
        """``params`` and ``tags`` recorded so far."""
        return self._run.data

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        _end(self, status)


class _Stack(threading.local):
    def __init__(self) -> None:
        self.runs: list[ActiveRun] = []


_stack = _Stack()


def start_run(
    run_name: str | None = None, tags: dict[str, Any] | None = None, *, nested: bool = False
) -> ActiveRun:
    """Start a run in the tracking store and make it this thread's active run.

    Use it as a context manager: the run ends when the block does, ``FINISHED`` or ``FAILED``.
    Starting a run while one is active raises ``InvalidParameterValue`` unless ``nested=True``
    (the nested run is tagged with its parent's id, ``mlflow.parentRunId``).
    """
    parent = active_run()
    if parent is not None and not nested:
        raise InvalidParameterValue(
            f"Run {parent.info.run_id!r} is already active. End it with mlserve.end_run(), "
            "or start a child run with start_run(nested=True)."
        )
    tags = dict(tags or {})
    if parent is not None:
        tags.setdefault("mlflow.parentRunId", parent.info.run_id)
    runs = RunStore.at()
    run = ActiveRun(runs.create_run(run_name, tags), runs)
    _stack.runs.append(run)
    return run


def active_run() -> ActiveRun | None:
    """The run this thread is logging to, or ``None``."""
    return _stack.runs[-1] if _stack.runs else None


def end_run(status: str = "FINISHED") -> None:
    """End the active run (if any) with ``status``: FINISHED, FAILED or KILLED."""
    run = active_run()
    if run is not None:
        _end(run, status)


def _end(run: ActiveRun, status: str) -> None:
    if run in _stack.runs:
        _stack.runs.remove(run)
    if run.info.end_time is None:
        run._run = run._runs.set_terminated(run.info.run_id, status)


def _active_or_new() -> ActiveRun:
    return active_run() or start_run()


def log_param(key: str, value: object) -> None:
    """Record a parameter on the active run (starting one if none is active).

    Params are write-once: a different value for a logged key raises ``InvalidParameterValue``.
    """
    run = _active_or_new()
    run._run = run._runs.log_param(run.info.run_id, key, value)


def set_tag(key: str, value: object) -> None:
    """Set a tag on the active run (starting one if none is active)."""
    run = _active_or_new()
    run._run = run._runs.set_tag(run.info.run_id, key, value)


def log_model(
    model: Any,
    name: str,
    *,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    **save_kwargs: Any,
) -> ModelInfo:
    """Save ``model`` into the active run as artifact ``name``; optionally register it.

    The model is written with :func:`mlserve.save_model` (recording ``run_id`` and
    ``artifact_path`` in its ``MLmodel``) into a hidden staging directory, which is renamed into
    ``runs/<run_id>/artifacts/<name>``: a crash leaves nothing visible. Without an active run,
    one is started and ended around the call. ``save_kwargs`` go to ``save_model`` (``flavor``,
    ``pip_requirements``, ``metadata``, ...).

    Returns a :class:`~mlserve.ModelInfo` whose ``model_uri`` is ``runs:/<run_id>/<name>``
    and, with ``registered_model_name``, whose ``registered_model_version`` is the new version.
    Raises ``ResourceAlreadyExists`` if the run already has an artifact ``name``, ``InvalidName``
    for a name that could escape the store, and whatever ``save_model`` raises.
    """
    own_run = active_run() is None
    run = _active_or_new()
    try:
        info = _log_model(run, model, name, signature, input_example, save_kwargs)
        if registered_model_name is not None:
            version = register_model(info.model_uri, registered_model_name)
            info = dataclasses.replace(info, registered_model_version=version.version)
    except BaseException:
        if own_run:
            _end(run, "FAILED")
        raise
    if own_run:
        _end(run, "FINISHED")
    return info


def _log_model(
    run: ActiveRun,
    model: Any,
    name: str,
    signature: Any,
    input_example: Any,
    save_kwargs: dict[str, Any],
) -> ModelInfo:
    # imported here: api.models imports the flavor registry, which tracking alone does not need
    from mlserve._api._models import save_model

    runs, run_id = run._runs, run.info.run_id
    artifact_path = validate_artifact_path(name)
    key = runs.artifact_key(run_id, artifact_path)
    model_uri = f"runs:/{run_id}/{artifact_path}"
    if runs.store.exists(key):
        raise ResourceAlreadyExists("Logged model", model_uri)
    staging = runs.store.staging_dir(key)
    try:
        target = staging / "model"
        save_model(
            model,
            target,
            signature=signature,
            input_example=input_example,
            run_id=run_id,
            artifact_path=artifact_path,
            **save_kwargs,
        )
        runs.store.publish_dir(target, key)
    finally:
        runs.store.discard(staging)
    return ModelInfo.from_model(Model.load(runs.store.local_path(key)), model_uri)


def register_model(
    model_uri: str | os.PathLike[str],
    name: str,
    *,
    description: str = "",
    tags: dict[str, Any] | None = None,
) -> ModelVersion:
    """Register the model at ``model_uri`` as the next version of ``name``.

    The registered model is created if it does not exist. Version numbers are allocated with an
    atomic create-if-absent, so concurrent registrations from many processes get distinct,
    consecutive numbers. ``runs:/`` URIs are referenced in place; plain paths are copied into the
    registry. Raises ``InvalidName``, ``InvalidURI``, and the not-found errors of the source.
    """
    registry = Registry.at()
    # registering a new version of an existing model is the common case
    with contextlib.suppress(ResourceAlreadyExists):
        registry.create_registered_model(name)
    parsed = parse_model_uri(model_uri)
    run_id = parsed.run_id if isinstance(parsed, RunsURI) else None
    return registry.create_model_version(
        name, model_uri, run_id=run_id, description=description, tags=tags
    )

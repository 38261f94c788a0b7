"""Resolve any model URI to the local directory that holds its MLmodel file.

``runs:/`` and ``models:/`` URIs are looked up in the stores :func:`read_locations` names, in
order: mlserve's own store through :class:`Registry` and :class:`RunStore`, MLflow's stores through
their read-only readers. The first store that has the model answers; when none has it, the error
names every store that was searched.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlserve._uri import LocalURI, LoggedModelURI, ModelURI, RegistryURI, RunsURI, parse_model_uri
from mlserve.errors import (
    ArtifactNotFound,
    InvalidURI,
    LoggedModelNotFound,
    RegisteredModelNotFound,
    ResourceNotFound,
    RunNotFound,
)
from mlserve.store._artifacts import LocalArtifactStore
from mlserve.store._locations import StoreLocation, read_locations
from mlserve.store._tracking import effective_uri

__all__ = ["resolve_in", "resolve_model_uri"]

MLMODEL = "MLmodel"


def resolve_model_uri(uri: str | os.PathLike[str], tracking_uri: str | None = None) -> Path:
    """Return the absolute local model directory that ``uri`` names.

    Accepts a plain path or ``file://`` URI (a model directory, or its MLmodel file),
    ``runs:/<run_id>/<path>``, ``models:/<name>/<version>``, ``/latest``, ``/<stage>``,
    ``models:/<name>@<alias>`` and ``models:/<model_id>``; ``runs:`` and ``models:`` are looked up
    in ``tracking_uri`` (default: the tracking location in effect, or with none configured,
    mlserve's default store and then MLflow's default store in the working directory). Models in
    a remote store are downloaded into mlserve's cache first.

    Raises :class:`~mlserve.errors.InvalidURI` for a malformed URI, ``ArtifactNotFound`` when there
    is no MLmodel file at the place named, ``RunNotFound``, ``RegisteredModelNotFound``,
    ``ModelVersionNotFound``, ``AliasNotFound`` or ``LoggedModelNotFound`` for missing entries
    (their messages list what exists and where mlserve looked), ``InvalidName`` for names that
    could escape the store, and ``StoreError`` for a store that cannot be read.
    """
    parsed = parse_model_uri(uri)
    if isinstance(parsed, LocalURI):
        return _model_dir(parsed.path.expanduser().absolute(), str(uri))
    locations = read_locations(
        effective_uri(tracking_uri), registry=isinstance(parsed, RegistryURI)
    )
    if isinstance(parsed, RegistryURI) and parsed.stage is not None:
        # only MLflow's registries have stages: mlserve's store in the chain is not asked
        locations = [loc for loc in locations if loc.read_only] or locations
    missing: list[tuple[StoreLocation, ResourceNotFound]] = []
    for location in locations:
        try:
            return resolve_in(location, parsed)
        except ResourceNotFound as exc:
            missing.append((location, exc))
    raise _not_found(parsed, missing)


def resolve_in(location: StoreLocation, parsed: ModelURI) -> Path:
    """The model directory of a ``runs:/`` or ``models:/`` URI in one store."""
    if location.read_only:
        from mlserve.store._mlflow import open_reader

        return open_reader(location).resolve(parsed)
    assert location.path is not None
    if isinstance(parsed, RunsURI):
        from mlserve.store._runs import RunStore

        return RunStore(LocalArtifactStore(location.path)).artifact_dir(
            parsed.run_id, parsed.artifact_path
        )
    if isinstance(parsed, RegistryURI):
        from mlserve.store._registry import Registry

        if parsed.stage is not None:
            raise InvalidURI(
                str(parsed),
                f"{location.describe()} has no stages (they are MLflow's): point an alias at the "
                f"version and use models:/{parsed.name}@<alias>",
            )
        return Registry(LocalArtifactStore(location.path)).resolve(parsed)
    if isinstance(parsed, LoggedModelURI):
        raise LoggedModelNotFound(parsed.model_id, store=location.describe())
    raise InvalidURI(str(parsed), "a local path is not looked up in a store")


def _not_found(
    parsed: ModelURI, missing: list[tuple[StoreLocation, ResourceNotFound]]
) -> ResourceNotFound:
    """One error for a URI no store had: the most specific, naming every store searched."""
    if len(missing) == 1:
        return missing[0][1]
    searched = "; ".join(location.describe() for location, _ in missing)
    # a model that exists somewhere but lacks the version or alias asked for says so
    for _, exc in missing:
        if not isinstance(exc, RegisteredModelNotFound | RunNotFound | LoggedModelNotFound):
            return exc
    if isinstance(parsed, RegistryURI):
        names = {
            n
            for _, exc in missing
            if isinstance(exc, RegisteredModelNotFound)
            for n in exc.existing
        }
        return RegisteredModelNotFound(parsed.name, names, store=searched)
    if isinstance(parsed, RunsURI):
        return RunNotFound(parsed.run_id, searched)
    assert isinstance(parsed, LoggedModelURI)
    return LoggedModelNotFound(parsed.model_id, store=searched)


def _model_dir(path: Path, what: str) -> Path:
    """``path`` if it is a directory with an MLmodel file (or the MLmodel file itself)."""
    if path.name == MLMODEL and path.is_file():
        return path.parent
    if (path / MLMODEL).is_file():
        return path
    where = what if what == str(path) else f"{what} ({path})"
    if path.is_dir():  # say what was expected, not just that nothing is there
        raise ArtifactNotFound(f"{where}: the directory has no {MLMODEL} file")
    raise ArtifactNotFound(where)

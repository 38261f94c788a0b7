"""Resolve any model URI to the local directory that holds its MLmodel file."""

from __future__ import annotations

import os
from pathlib import Path

from mlserve.errors import ArtifactNotFound, InvalidURI
from mlserve.uri import LocalURI, RegistryURI, RunsURI, parse_model_uri

__all__ = ["resolve_model_uri"]

MLMODEL = "MLmodel"


def resolve_model_uri(uri: str | os.PathLike[str], tracking_uri: str | None = None) -> Path:
    """Return the absolute local model directory that ``uri`` names.

    Accepts a plain path or ``file://`` URI (a model directory, or its MLmodel file),
    ``runs:/<run_id>/<path>``, ``models:/<name>/<version>``, ``models:/<name>/latest`` and
    ``models:/<name>@<alias>``; ``runs:`` and ``models:`` are looked up in ``tracking_uri``
    (default: the tracking location in effect, see :func:`mlserve.store.get_tracking_uri`).

    Raises :class:`~mlserve.errors.InvalidURI` for a malformed URI, ``ArtifactNotFound`` when there
    is no MLmodel file at the place named, ``RunNotFound``, ``RegisteredModelNotFound``,
    ``ModelVersionNotFound`` or ``AliasNotFound`` for missing runs and registry entries (their
    messages list what exists), and ``InvalidName`` for names that could escape the store.
    """
    parsed = parse_model_uri(uri)
    if isinstance(parsed, LocalURI):
        return _model_dir(parsed.path.expanduser().absolute(), str(uri))
    if isinstance(parsed, RunsURI):
        from mlserve.store.runs import RunStore

        return RunStore.at(tracking_uri).artifact_dir(parsed.run_id, parsed.artifact_path)
    if isinstance(parsed, RegistryURI):
        from mlserve.store.registry import Registry

        return Registry.at(tracking_uri).resolve(parsed)
    raise InvalidURI(str(uri), "unsupported form")  # pragma: no cover - parse_model_uri is total


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

"""Where models live: the tracking location, runs, the model registry and URI resolution.

mlserve's own store is a directory tree (default ``./mlserve-store``) written only through atomic
operations, so any number of processes can log, register and load models at once without a
server. MLflow's stores (its database, file store and tracking server) are read, never written,
through :mod:`mlserve.store._mlflow`; :mod:`mlserve.store._locations` says which store a tracking
URI names. See ``docs/tracking.md`` for the layout and the guarantees.
"""

from __future__ import annotations

from mlserve.store._artifacts import ArtifactStore, LocalArtifactStore
from mlserve.store._imports import ImportedVersion, import_model_versions
from mlserve.store._records import ModelVersion, RegisteredModel
from mlserve.store._registry import Registry
from mlserve.store._resolve import resolve_model_uri
from mlserve.store._runs import Run, RunData, RunInfo, RunStore
from mlserve.store._tracking import get_tracking_uri, resolve_tracking_root, set_tracking_uri

__all__ = [
    "ArtifactStore",
    "ImportedVersion",
    "LocalArtifactStore",
    "ModelVersion",
    "RegisteredModel",
    "Registry",
    "Run",
    "RunData",
    "RunInfo",
    "RunStore",
    "get_tracking_uri",
    "import_model_versions",
    "resolve_model_uri",
    "resolve_tracking_root",
    "set_tracking_uri",
]

"""Where models live: the tracking location, runs, the model registry and URI resolution.

mlserve's own store is a directory tree (default ``./mlserve-store``) written only through atomic
operations, so any number of processes can log, register and load models at once without a
server. MLflow's stores (its database, file store and tracking server) are read, never written,
through :mod:`mlserve.store.mlflow`; :mod:`mlserve.store.locations` says which store a tracking
URI names. See ``docs/tracking.md`` for the layout and the guarantees.
"""

from __future__ import annotations

from mlserve.store.artifacts import ArtifactStore, LocalArtifactStore
from mlserve.store.records import ModelVersion, RegisteredModel
from mlserve.store.registry import Registry
from mlserve.store.resolve import resolve_model_uri
from mlserve.store.runs import Run, RunData, RunInfo, RunStore
from mlserve.store.tracking import get_tracking_uri, resolve_tracking_root, set_tracking_uri

__all__ = [
    "ArtifactStore",
    "LocalArtifactStore",
    "ModelVersion",
    "RegisteredModel",
    "Registry",
    "Run",
    "RunData",
    "RunInfo",
    "RunStore",
    "get_tracking_uri",
    "resolve_model_uri",
    "resolve_tracking_root",
    "set_tracking_uri",
]

"""Where models live: the tracking location, runs, the model registry and URI resolution.

The store is a directory tree (default ``./mlruns``) written only through atomic operations, so
any number of processes can log, register and load models at once without a server. See
``docs/tracking.md`` for the layout and the guarantees.
"""

from __future__ import annotations

from mlserve.store.artifacts import ArtifactStore, LocalArtifactStore
from mlserve.store.resolve import resolve_model_uri
from mlserve.store.tracking import get_tracking_uri, resolve_tracking_root, set_tracking_uri

__all__ = [
    "ArtifactStore",
    "LocalArtifactStore",
    "get_tracking_uri",
    "resolve_model_uri",
    "resolve_tracking_root",
    "set_tracking_uri",
]

"""Read-only access to MLflow's stores, without importing mlflow.

:func:`open_reader` gives the reader for a :class:`~mlserve.store._locations.StoreLocation` of one
of MLflow's kinds: its database (``sqlite:///mlflow.db``), its file store (``./mlruns``) or a
tracking server (``http(s)://``). Every reader answers the same questions and resolves
``models:/`` and ``runs:/`` URIs by MLflow's rules (:class:`MlflowReader`). Nothing here writes
into an MLflow store; downloads go to mlserve's cache.
"""

from __future__ import annotations

from mlserve.store._locations import MLFLOW_FILE, MLFLOW_SERVER, MLFLOW_SQLITE, StoreLocation
from mlserve.store._mlflow._reader import MlflowReader

__all__ = ["MlflowReader", "open_reader"]


def open_reader(location: StoreLocation) -> MlflowReader:
    """The reader for one of MLflow's stores; ``ValueError`` for mlserve's own kind."""
    if location.kind == MLFLOW_SQLITE:
        from mlserve.store._mlflow._sqlite import SqliteReader

        return SqliteReader(location)
    if location.kind == MLFLOW_FILE:
        from mlserve.store._mlflow._filestore import FileStoreReader

        return FileStoreReader(location)
    if location.kind == MLFLOW_SERVER:
        from mlserve.store._mlflow._server import ServerReader

        return ServerReader(location)
    raise ValueError(f"{location.describe()} is not one of MLflow's stores")

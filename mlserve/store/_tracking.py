"""The tracking location in effect: ``set_tracking_uri``, the environment, or the default.

Resolved at use time, in this order, as MLflow users expect: the value given to
:func:`set_tracking_uri`, ``MLSERVE_TRACKING_URI``, ``MLFLOW_TRACKING_URI``, then the default. The
kinds of store and the default read chain are in :mod:`mlserve.store._locations`. mlserve writes
only into its own store: :func:`resolve_tracking_root` refuses MLflow's stores with
:class:`~mlserve.errors.ReadOnlyStore`. A local store directory is created by the first write,
never by a read.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlserve.errors import ReadOnlyStore
from mlserve.store._locations import (
    DEFAULT_STORE_DIR,
    ENV_MLFLOW_TRACKING_URI,
    ENV_TRACKING_URI,
    configured_uri,
    locate,
    write_location,
)

__all__ = [
    "DEFAULT_TRACKING_DIR",
    "ENV_MLFLOW_TRACKING_URI",
    "ENV_TRACKING_URI",
    "get_tracking_uri",
    "resolve_tracking_root",
    "set_tracking_uri",
]

DEFAULT_TRACKING_DIR = DEFAULT_STORE_DIR

_tracking_uri: str | None = None


def set_tracking_uri(uri: str | os.PathLike[str] | None) -> None:
    """Set the tracking location for this process.

    Accepts a local path or ``file://`` URI (mlserve's store, or MLflow's file store, detected
    from its contents), ``sqlite:///<path>`` (MLflow's database) and ``http(s)://host:port`` (an
    MLflow tracking server). MLflow's stores are read-only for mlserve. ``None`` (or an empty
    string) clears the setting. A relative path is resolved against the working directory at each
    use. Raises :class:`~mlserve.errors.UnsupportedStore` for other kinds (``postgresql://``,
    ``databricks``, ...), naming the supported ones.
    """
    global _tracking_uri
    if uri is None or (isinstance(uri, str) and not uri.strip()):
        _tracking_uri = None
        return
    value = os.fspath(uri)
    locate(value)  # refuse unsupported kinds now, not at the first use
    _tracking_uri = value


def get_tracking_uri() -> str:
    """Return the tracking location in effect.

    A configured value (:func:`set_tracking_uri`, ``MLSERVE_TRACKING_URI``,
    ``MLFLOW_TRACKING_URI``) is returned as given; with none, the absolute ``file://`` URI of
    ``./mlserve-store`` in the current directory, where mlserve writes (reads also look at
    MLflow's default store in the directory, see :func:`mlserve.store._locations.read_locations`).
    """
    configured = configured_uri(_tracking_uri)
    if configured is not None:
        return configured[0]
    return (Path.cwd() / DEFAULT_STORE_DIR).as_uri()


def resolve_tracking_root(
    tracking_uri: str | os.PathLike[str] | None = None, action: str = "write to it"
) -> Path:
    """The absolute directory of the mlserve store that writes go to (it may not exist yet).

    ``tracking_uri`` defaults to the location in effect. Raises
    :class:`~mlserve.errors.ReadOnlyStore` (saying what to do instead) when the location is one of
    MLflow's stores, and :class:`~mlserve.errors.UnsupportedStore` for unknown kinds.
    """
    location = write_location(effective_uri(tracking_uri))
    if location.read_only or location.path is None:
        raise ReadOnlyStore(location.describe(), action)
    return location.path


def effective_uri(tracking_uri: str | os.PathLike[str] | None = None) -> str | None:
    """The explicit URI if given, else the one set with :func:`set_tracking_uri` (or ``None``)."""
    return _tracking_uri if tracking_uri is None else os.fspath(tracking_uri)

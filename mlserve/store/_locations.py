"""Which stores a tracking URI names, and of which kind: mlserve's own, or one of MLflow's.

A tracking location is chosen as MLflow users expect: the value given to ``set_tracking_uri`` (or
``--tracking-uri``), else ``MLSERVE_TRACKING_URI``, else ``MLFLOW_TRACKING_URI``, else the
default. The kind of store is read from the URI's form and, for a directory, from what is in it,
never guessed from a name:

=================================  ==========================================================
``sqlite:///path/mlflow.db``       MLflow's database store (read-only for mlserve)
``http(s)://host:port``            an MLflow tracking server (read-only for mlserve)
a directory with ``0/meta.yaml``   MLflow's file store, ``./mlruns`` (read-only for mlserve)
any other directory, or none yet   mlserve's own store (``runs/``, ``models/``)
=================================  ==========================================================

With nothing configured, mlserve *writes* to ``./mlserve-store`` and *reads* from it first, then
from MLflow's default store in the working directory, found by MLflow's own rule: ``./mlruns``
if it holds MLflow experiments, else ``./mlflow.db`` if it exists. So a model logged with MLflow
in the current directory is served without configuration, and mlserve never writes where MLflow
keeps its data. Nothing here imports mlflow or opens a store; it only looks at names and files.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mlserve._uri import LocalURI, parse_model_uri
from mlserve.errors import InvalidURI, UnsupportedStore

__all__ = [
    "DEFAULT_STORE_DIR",
    "ENV_MLFLOW_REGISTRY_URI",
    "ENV_MLFLOW_TRACKING_URI",
    "ENV_TRACKING_URI",
    "KIND_NAMES",
    "StoreLocation",
    "detect_directory",
    "locate",
    "mlflow_default_locations",
    "read_locations",
]

_log = logging.getLogger(__name__)

ENV_TRACKING_URI = "MLSERVE_TRACKING_URI"
ENV_MLFLOW_TRACKING_URI = "MLFLOW_TRACKING_URI"
ENV_MLFLOW_REGISTRY_URI = "MLFLOW_REGISTRY_URI"
#: mlserve's own store when nothing is configured; not ``./mlruns``, which is MLflow's
DEFAULT_STORE_DIR = "mlserve-store"
_MLFLOW_DIR = "mlruns"
_MLFLOW_DB = "mlflow.db"

MLSERVE = "mlserve"
MLFLOW_SQLITE = "mlflow-sqlite"
MLFLOW_FILE = "mlflow-file"
MLFLOW_SERVER = "mlflow-server"
KIND_NAMES = {
    MLSERVE: "mlserve's store",
    MLFLOW_SQLITE: "MLflow's sqlite store",
    MLFLOW_FILE: "MLflow's file store",
    MLFLOW_SERVER: "MLflow tracking server",
}
_SUPPORTED = (
    "mlserve reads a local directory or file:// URI (mlserve's store or MLflow's file store), "
    "sqlite:///<path> (MLflow's database store) and http(s)://<host> (an MLflow tracking server)"
)
_SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class StoreLocation:
    """One store to read (and, for ``kind == "mlserve"``, to write).

    ``kind`` is ``"mlserve"``, ``"mlflow-sqlite"``, ``"mlflow-file"`` or ``"mlflow-server"``;
    ``uri`` is the tracking URI as given (absolute for defaults); ``path`` is the directory or
    database file for local kinds, ``None`` for a server; ``origin`` says where the URI came from.
    """

    kind: str
    uri: str
    path: Path | None
    origin: str

    @property
    def read_only(self) -> bool:
        """Whether mlserve only reads this store (every MLflow store)."""
        return self.kind != MLSERVE

    def describe(self) -> str:
        """``"MLflow's sqlite store sqlite:////x/mlflow.db"``: the kind and where, for messages."""
        return f"{KIND_NAMES[self.kind]} {self.uri}"


def detect_directory(path: Path) -> str | None:
    """``"mlflow-file"`` or ``"mlserve"`` from what a directory holds; ``None`` if neither shows.

    MLflow's file store has experiment directories with a ``meta.yaml`` (the rule MLflow itself
    uses to pick its default store) or registered models with a ``meta.yaml``; mlserve's store
    has ``runs/<id>/run.yaml`` or ``models/<name>/registered_model.yaml``. MLflow's marks win: a
    directory that holds both is MLflow's, and mlserve only reads it.
    """
    try:
        with os.scandir(path) as it:
            entries = list(it)
    except OSError:
        return None
    names = {e.name for e in entries}
    if any(
        e.is_dir() and e.name.isdigit() and (path / e.name / "meta.yaml").exists() for e in entries
    ):
        return MLFLOW_FILE
    models = path / "models"
    if "models" in names and _any_child_has(models, "meta.yaml"):
        return MLFLOW_FILE
    if "runs" in names and _any_child_has(path / "runs", "run.yaml"):
        return MLSERVE
    if "models" in names and _any_child_has(models, "registered_model.yaml"):
        return MLSERVE
    return None


def _any_child_has(directory: Path, filename: str) -> bool:
    try:
        with os.scandir(directory) as it:
            return any((Path(e.path) / filename).is_file() for e in it if e.is_dir())
    except OSError:
        return False


def locate(uri: str | os.PathLike[str], origin: str = "argument") -> StoreLocation:
    """The store a tracking URI names; raises ``UnsupportedStore`` for kinds mlserve cannot read.

    ``origin`` is where the URI came from: a local directory named by ``MLFLOW_TRACKING_URI`` that
    is empty or absent is taken as MLflow's (empty) file store, so mlserve never creates its own
    store where MLflow was told to keep one.
    """
    value = os.fspath(uri).strip()
    if not value:
        raise UnsupportedStore(value, f"the tracking URI is empty; {_SUPPORTED}")
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme in ("http", "https"):
        return StoreLocation(MLFLOW_SERVER, value.rstrip("/"), None, origin)
    if scheme == "sqlite" or scheme.startswith("sqlite+"):
        return StoreLocation(MLFLOW_SQLITE, value, _sqlite_path(value), origin)
    try:
        parsed = parse_model_uri(value)
    except InvalidURI:
        parsed = None
    if not isinstance(parsed, LocalURI):
        what = f"{scheme}:" if scheme else "this URI"
        raise UnsupportedStore(
            value, f"{what} is not a kind of tracking URI mlserve reads; {_SUPPORTED}"
        )
    path = parsed.path.expanduser().absolute()
    if path.is_file():
        if _is_sqlite_file(path):
            return StoreLocation(MLFLOW_SQLITE, f"sqlite:///{path}", path, origin)
        raise UnsupportedStore(value, f"it is a file, not a store directory; {_SUPPORTED}")
    kind = detect_directory(path)
    if kind is None:
        kind = MLFLOW_FILE if origin == ENV_MLFLOW_TRACKING_URI else MLSERVE
    return StoreLocation(kind, value, path, origin)


def _sqlite_path(uri: str) -> Path:
    # SQLAlchemy's form: sqlite:///relative.db, sqlite:////absolute.db; only the stdlib driver
    parts = urlsplit(uri)
    if parts.scheme.lower() != "sqlite":
        raise UnsupportedStore(
            uri, "only the standard-library sqlite driver is supported (sqlite:///<path>)"
        )
    if parts.netloc:
        raise UnsupportedStore(uri, "a sqlite URI names a local file: sqlite:///<path>")
    path = unquote(parts.path)[1:] if parts.path.startswith("/") else unquote(parts.path)
    if not path or path == ":memory:":
        raise UnsupportedStore(uri, "an in-memory sqlite database holds no models")
    return Path(path).expanduser().absolute()


def _is_sqlite_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def configured_uri(explicit: str | os.PathLike[str] | None) -> tuple[str, str] | None:
    """``(uri, origin)`` of the configured tracking URI, or ``None`` when the default applies."""
    if explicit is not None and os.fspath(explicit).strip():
        return os.fspath(explicit), "argument"
    for env in (ENV_TRACKING_URI, ENV_MLFLOW_TRACKING_URI):
        value = os.environ.get(env, "").strip()
        if value:
            return value, env
    return None


def read_locations(
    explicit: str | os.PathLike[str] | None = None, *, registry: bool = False
) -> list[StoreLocation]:
    """The stores a ``runs:/`` or ``models:/`` URI is looked up in, in order.

    A configured tracking URI names one store. ``MLFLOW_REGISTRY_URI`` replaces it for registry
    lookups (``registry=True``) unless mlserve's own variable or an explicit URI chose the store,
    as in MLflow. With nothing configured: mlserve's default store, then an old mlserve store in
    ``./mlruns`` (kept readable, with a warning, until it is moved), then MLflow's default store in
    the working directory.
    """
    configured = configured_uri(explicit)
    if configured is not None:
        uri, origin = configured
        registry_uri = os.environ.get(ENV_MLFLOW_REGISTRY_URI, "").strip()
        if registry and registry_uri and origin == ENV_MLFLOW_TRACKING_URI:
            return [locate(registry_uri, ENV_MLFLOW_REGISTRY_URI)]
        return [locate(uri, origin)]
    cwd = Path.cwd()
    found = [
        StoreLocation(MLSERVE, str(cwd / DEFAULT_STORE_DIR), cwd / DEFAULT_STORE_DIR, "default")
    ]
    registry_uri = os.environ.get(ENV_MLFLOW_REGISTRY_URI, "").strip()
    if registry and registry_uri:
        return [*found, locate(registry_uri, ENV_MLFLOW_REGISTRY_URI)]
    mlruns = cwd / _MLFLOW_DIR
    if detect_directory(mlruns) == MLSERVE:
        _log.warning(
            "Reading an mlserve store in %s: mlserve's default store is now ./%s, so that it never "
            "shares MLflow's ./mlruns. Move it: mv %s %s",
            mlruns,
            DEFAULT_STORE_DIR,
            _MLFLOW_DIR,
            DEFAULT_STORE_DIR,
        )
        found.append(StoreLocation(MLSERVE, str(mlruns), mlruns, "default"))
    return found + mlflow_default_locations()


def mlflow_default_locations() -> list[StoreLocation]:
    """MLflow's default store in the working directory, by MLflow's own rule, if there is one.

    ``./mlruns`` when it holds MLflow experiments (MLflow 2's default, and MLflow 3's when such
    data exists), else ``./mlflow.db`` when the file exists (MLflow 3's default); else nothing.
    """
    cwd = Path.cwd()
    mlruns = cwd / _MLFLOW_DIR
    if detect_directory(mlruns) == MLFLOW_FILE:
        return [StoreLocation(MLFLOW_FILE, str(mlruns), mlruns, "default")]
    db = cwd / _MLFLOW_DB
    if db.is_file():
        return [StoreLocation(MLFLOW_SQLITE, f"sqlite:///{db}", db, "default")]
    return []


def write_location(explicit: str | os.PathLike[str] | None = None) -> StoreLocation:
    """The store writes go to: the configured one, or ``./mlserve-store``.

    The caller refuses the write when the location is read-only (an MLflow store).
    """
    configured = configured_uri(explicit)
    if configured is None:
        path = Path.cwd() / DEFAULT_STORE_DIR
        return StoreLocation(MLSERVE, str(path), path, "default")
    return locate(*configured)

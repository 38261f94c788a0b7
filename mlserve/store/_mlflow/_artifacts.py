"""From an MLflow artifact URI to a local model directory, downloading into a cache if remote.

Artifact locations MLflow writes, and what mlserve does with each:

==========================================  ===================================================
``/abs/path``, ``file:///abs/path``          read in place
``relative/path``                            read in place, relative to the store, then the cwd
``mlflow-artifacts:/<path>``                 downloaded through the tracking server's proxy
``mlflow-artifacts://host:port/<path>``      downloaded through that server's proxy
``http(s)://host/api/2.0/mlflow-artifacts``  downloaded from that proxy
``s3://``, ``gs://``, ``wasbs://``, ...      refused, naming what is supported
==========================================  ===================================================

Downloads go to ``$MLSERVE_CACHE_DIR`` (default ``~/.cache/mlserve``, or under
``$XDG_CACHE_HOME``), one directory per artifact identity (server and artifact URI; MLflow never
changes a logged model's artifacts). A download is written under a temporary name and renamed
into place only when complete, so no reader ever sees half a model, and a failed or interrupted
download leaves nothing that is reused.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mlserve.errors import ArtifactNotFound, UnsupportedStore
from mlserve.store._mlflow._http import TrackingServer

__all__ = ["cache_root", "cached_download", "fetch_artifacts"]

_SUPPORTED = (
    "mlserve reads local paths, file:, mlflow-artifacts: (through a tracking server) and "
    "http(s) artifact locations"
)


def cache_root() -> Path:
    """Where downloaded artifacts are kept: ``$MLSERVE_CACHE_DIR`` or the user's cache dir."""
    explicit = os.environ.get("MLSERVE_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser().absolute()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache").absolute() / "mlserve"


def cached_download(identity: str, fill: Callable[[Path], None]) -> Path:
    """The cache directory for ``identity``, filled by ``fill(staging_dir)`` on a miss.

    Published by one ``os.rename``: concurrent processes may both download, one rename wins and
    the other discards its copy. ``fill`` failing removes its staging directory.
    """
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:40]
    root = cache_root() / "mlflow-artifacts"
    final = root / digest
    if final.is_dir():
        return final
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".tmp-{digest}-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        fill(staging)
        (staging / ".mlserve-source").write_text(identity + "\n", encoding="utf-8")
        try:
            os.rename(staging, final)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not final.is_dir():
                raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(staging)
    return final


def _local(path: str, bases: list[Path]) -> Path:
    candidate = Path(path).expanduser()
    if candidate.is_absolute():
        return candidate
    for base in bases:
        if (base / candidate).exists():
            return (base / candidate).absolute()
    return (bases[0] / candidate).absolute() if bases else candidate.absolute()


def fetch_artifacts(
    uri: str, *, bases: list[Path], server: TrackingServer | None, where: str
) -> Path:
    """A local directory holding the artifacts at ``uri`` (see the module's table).

    ``bases`` are the directories a relative location is tried against; ``server`` is the
    tracking server whose proxy serves ``mlflow-artifacts:/`` paths (``None`` for local stores).
    """
    parts = urlsplit(uri)
    scheme = parts.scheme.lower() if len(parts.scheme) > 1 else ""  # C:\ is a path, not a scheme
    if scheme in ("", "file"):
        if scheme == "file" and parts.netloc not in ("", "localhost"):
            raise UnsupportedStore(uri, f"a file: URI on another host; {_SUPPORTED}")
        path = _local(unquote(parts.path) if scheme else uri, bases)
        if not path.is_dir():
            raise ArtifactNotFound(f"{uri} (from {where}): no such directory")
        return path
    if scheme == "mlflow-artifacts":
        if parts.netloc:
            proxy = f"http://{parts.netloc}"
            client = server or TrackingServer(proxy)
        elif server is not None:
            proxy, client = server.base_url, server
        else:
            raise UnsupportedStore(
                uri,
                f"{where} keeps its artifacts behind a tracking server (mlflow-artifacts:); "
                "set MLFLOW_TRACKING_URI (or --tracking-uri) to that server's http(s):// URL",
            )
        rel = unquote(parts.path).strip("/")
        return cached_download(
            f"{proxy}|{rel}", lambda dest: client.download_tree(rel, dest, proxy_base=proxy)
        )
    if scheme in ("http", "https"):
        marker = "/api/2.0/mlflow-artifacts/artifacts"
        if marker not in parts.path:
            raise UnsupportedStore(
                uri, f"an http artifact location outside MLflow's proxy; {_SUPPORTED}"
            )
        prefix, _, rel = parts.path.partition(marker)
        base = f"{parts.scheme}://{parts.netloc}{prefix}"
        client = server or TrackingServer(base)
        rel = unquote(rel).strip("/")
        return cached_download(
            f"{base}|{rel}", lambda dest: client.download_tree(rel, dest, proxy_base=base)
        )
    raise UnsupportedStore(
        uri, f"artifact location scheme {scheme!r} is not supported; {_SUPPORTED}"
    )

"""Model URIs: parse the accepted forms into small frozen dataclasses.

Accepted forms::

    /abs/path, rel/path, C:\\path    -> LocalURI
    file:///abs/path                 -> LocalURI (file://localhost/... too)
    runs:/<run_id>/<artifact path>   -> RunsURI
    models:/<name>/<version>         -> RegistryURI(version=N)
    models:/<name>/latest            -> RegistryURI(latest)
    models:/<name>@<alias>           -> RegistryURI(alias=...)

Parsing is pure: nothing here touches the disk. Names are only checked for shape (non-empty
parts); the store validates them again before it builds any path from them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mlserve.errors import InvalidURI

__all__ = ["LocalURI", "ModelURI", "RegistryURI", "RunsURI", "parse_model_uri"]

_FORMS = (
    "expected a local path, file:///path, runs:/<run_id>/<path>, models:/<name>/<version>, "
    "models:/<name>/latest or models:/<name>@<alias>"
)
# a one-letter "scheme" is a Windows drive (C:\models), not a URI scheme
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")


@dataclass(frozen=True)
class LocalURI:
    """A model directory on the local file system (a plain path or a ``file://`` URI)."""

    path: Path

    def __str__(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class RunsURI:
    """``runs:/<run_id>/<artifact_path>``: an artifact logged in a run of the tracking store."""

    run_id: str
    artifact_path: str

    def __str__(self) -> str:
        return f"runs:/{self.run_id}/{self.artifact_path}"


@dataclass(frozen=True)
class RegistryURI:
    """``models:/...``: a registered model version, by number, alias, or latest (both ``None``)."""

    name: str
    version: int | None = None
    alias: str | None = None

    @property
    def is_latest(self) -> bool:
        """True for ``models:/<name>/latest`` (the highest published version)."""
        return self.version is None and self.alias is None

    def __str__(self) -> str:
        if self.alias is not None:
            return f"models:/{self.name}@{self.alias}"
        return f"models:/{self.name}/{'latest' if self.version is None else self.version}"


ModelURI = LocalURI | RunsURI | RegistryURI


def parse_model_uri(uri: str | os.PathLike[str]) -> ModelURI:
    """Parse a model URI or path into :class:`LocalURI`, :class:`RunsURI` or :class:`RegistryURI`.

    Raises :class:`~mlserve.errors.InvalidURI` for an empty string, an unknown scheme (``s3://``,
    ``http://``, ...), a ``file://`` URI naming a remote host, and malformed ``runs:`` or
    ``models:`` forms. The message lists the accepted forms.
    """
    if isinstance(uri, os.PathLike):
        return LocalURI(Path(os.fspath(uri)))
    if not isinstance(uri, str):
        raise InvalidURI(repr(uri), f"expected a string or path, got {type(uri).__name__}")
    if not uri.strip():
        raise InvalidURI(uri, _FORMS)
    if "\x00" in uri:
        raise InvalidURI(uri.replace("\x00", "\\x00"), "it contains a NUL character")
    match = _SCHEME.match(uri)
    if match is None:
        return LocalURI(Path(uri))
    scheme = match.group(1).lower()
    if scheme == "file":
        return _parse_file(uri)
    if scheme == "runs":
        return _parse_runs(uri)
    if scheme == "models":
        return _parse_models(uri)
    raise InvalidURI(uri, f"unsupported scheme {scheme!r}; {_FORMS}")


def _parse_file(uri: str) -> LocalURI:
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost"):
        raise InvalidURI(uri, f"file URIs must name a local path, not host {parts.netloc!r}")
    if parts.query or parts.fragment:
        raise InvalidURI(uri, "file URIs take no query or fragment")
    path = unquote(parts.path)
    if not path:
        raise InvalidURI(uri, "the file URI has no path")
    # file:///C:/models -> C:/models on Windows
    if os.name == "nt" and re.match(r"^/[A-Za-z]:", path):
        path = path[1:]
    return LocalURI(Path(path))


def _body(uri: str, scheme: str) -> str:
    """What follows ``scheme:``, with the leading slashes removed (``runs:/x`` == ``runs:///x``)."""
    return uri[len(scheme) + 1 :].lstrip("/")


def _parse_runs(uri: str) -> RunsURI:
    run_id, _, path = _body(uri, "runs").partition("/")
    path = path.strip("/")
    if not run_id or not path:
        raise InvalidURI(uri, "expected runs:/<run_id>/<artifact path>")
    return RunsURI(run_id, path)


def _parse_models(uri: str) -> RegistryURI:
    body = _body(uri, "models").rstrip("/")
    if "/" in body:
        name, _, version = body.partition("/")
        if not name or not version or "/" in version:
            raise InvalidURI(uri, "expected models:/<name>/<version>, /latest or @<alias>")
        if version.lower() == "latest":
            return RegistryURI(name)
        if version.isdigit() and version.isascii() and int(version) > 0:
            return RegistryURI(name, version=int(version))
        raise InvalidURI(
            uri,
            f"version {version!r} is neither a positive integer nor 'latest' "
            "(model stages are not supported: use an alias, models:/<name>@<alias>)",
        )
    if "@" in body:
        name, _, alias = body.rpartition("@")
        if not name or not alias:
            raise InvalidURI(uri, "expected models:/<name>@<alias>")
        return RegistryURI(name, alias=alias)
    raise InvalidURI(uri, "expected models:/<name>/<version>, models:/<name>/latest or @<alias>")

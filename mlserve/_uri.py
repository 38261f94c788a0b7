"""Model URIs: parse the accepted forms into small frozen dataclasses.

Accepted forms::

    /abs/path, rel/path, C:\\path    -> LocalURI
    file:///abs/path                 -> LocalURI (file://localhost/... too)
    runs:/<run_id>/<artifact path>   -> RunsURI
    models:/<name>/<version>         -> RegistryURI(version=N)
    models:/<name>/latest            -> RegistryURI(latest)
    models:/<name>@<alias>           -> RegistryURI(alias=...)
    models:/<name>/<stage>           -> RegistryURI(stage=...)  (MLflow's Staging, Production, ...)
    models:/<model_id>               -> LoggedModelURI          (MLflow 3: ``models:/m-<id>``)

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

__all__ = [
    "STAGES",
    "LocalURI",
    "LoggedModelURI",
    "ModelURI",
    "RegistryURI",
    "RunsURI",
    "parse_model_uri",
]

_FORMS = (
    "expected a local path, file:///path, runs:/<run_id>/<path>, models:/<name>/<version>, "
    "models:/<name>/latest, models:/<name>@<alias>, models:/<name>/<stage> or models:/<model_id>"
)
_TRACKING_SCHEMES = ("sqlite", "http", "https", "postgresql", "mysql", "mssql", "databricks")
#: MLflow's model version stages, in its spelling; a stage in a URI matches case-insensitively.
STAGES = ("None", "Staging", "Production", "Archived")
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
    """``models:/...``: a registered model version by number, alias, stage or latest (all None).

    ``stage`` is one of :data:`STAGES` in MLflow's spelling; only MLflow's registries have
    stages (mlserve's own registry uses aliases).
    """

    name: str
    version: int | None = None
    alias: str | None = None
    stage: str | None = None

    @property
    def is_latest(self) -> bool:
        """True for ``models:/<name>/latest`` (the highest published version)."""
        return self.version is None and self.alias is None and self.stage is None

    def __str__(self) -> str:
        if self.alias is not None:
            return f"models:/{self.name}@{self.alias}"
        if self.stage is not None:
            return f"models:/{self.name}/{self.stage}"
        return f"models:/{self.name}/{'latest' if self.version is None else self.version}"


@dataclass(frozen=True)
class LoggedModelURI:
    """``models:/<model_id>``: an MLflow 3 logged model by its id (``m-...``), no registry."""

    model_id: str

    def __str__(self) -> str:
        return f"models:/{self.model_id}"


ModelURI = LocalURI | RunsURI | RegistryURI | LoggedModelURI


def parse_model_uri(uri: str | os.PathLike[str]) -> ModelURI:
    """Parse a model URI or path into :class:`LocalURI`, :class:`RunsURI`, :class:`RegistryURI`
    or :class:`LoggedModelURI`.

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
    if scheme in _TRACKING_SCHEMES or scheme.startswith("sqlite+"):
        # the commonest mix-up for MLflow users: the store where the model is, given as the model
        raise InvalidURI(
            uri,
            "this is a tracking URI (where models are stored), not a model URI: give it as "
            "--tracking-uri (or MLFLOW_TRACKING_URI) and the model as models:/<name>/<version>",
        )
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
    """What follows ``scheme:``, with the leading slashes removed (``runs:/x`` == ``runs:///x``).

    As MLflow's parsers (``urlparse``, then a path that must start with ``/``): ``models:M/1``
    is refused, and so is a host part (``models://M/1``), which MLflow drops without a word
    and reads ``/1`` as a logged model's id: another model than the one the URI seems to name.
    """
    rest = uri[len(scheme) + 1 :]
    if rest and not rest.startswith("/"):
        raise InvalidURI(uri, f"expected {scheme}:/...: the path after '{scheme}:' starts with /")
    host = rest[2:].partition("/")[0] if rest.startswith("//") else ""
    if host:
        raise InvalidURI(
            uri,
            f"{scheme}://{host}/... names a host, which MLflow ignores (it reads the rest as "
            f"the path); write {scheme}:/{host}/...",
        )
    return rest.lstrip("/")


def _parse_runs(uri: str) -> RunsURI:
    run_id, _, path = _body(uri, "runs").partition("/")
    path = path.strip("/")
    if not run_id or not path:
        raise InvalidURI(uri, "expected runs:/<run_id>/<artifact path>")
    return RunsURI(run_id, path)


def _parse_models(uri: str) -> RegistryURI | LoggedModelURI:
    # the same split as MLflow's own parser: one part is a logged model id, two parts are a name
    # and a version, "latest" or a stage, and "name@alias" names an alias
    body = _body(uri, "models").rstrip("/")
    if "/" in body:
        name, _, suffix = body.partition("/")
        if not name or not suffix or "/" in suffix:
            raise InvalidURI(uri, "expected models:/<name>/<version>, /latest or @<alias>")
        if suffix.isdigit() and suffix.isascii():
            if int(suffix) > 0:
                return RegistryURI(name, version=int(suffix))
            raise InvalidURI(uri, f"version {suffix!r} is not a positive integer")
        if suffix.lower() == "latest":
            return RegistryURI(name)
        for stage in STAGES:
            if suffix.lower() == stage.lower():
                return RegistryURI(name, stage=stage)
        raise InvalidURI(
            uri,
            f"{suffix!r} is neither a version number, 'latest', nor a model stage "
            f"({', '.join(STAGES)})",
        )
    if "@" in body:
        name, _, alias = body.rpartition("@")
        if not name or not alias:
            raise InvalidURI(uri, "expected models:/<name>@<alias>")
        return RegistryURI(name, alias=alias)
    if not body:
        raise InvalidURI(uri, _FORMS)
    return LoggedModelURI(body)

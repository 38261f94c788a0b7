"""What every MLflow store reader answers, and how a URI resolves through those answers.

A reader (sqlite database, file store, tracking server) only answers small questions: a
registered model, its versions, a run's artifact location, a logged model's location. The rules
MLflow applies on top of them live here once: ``latest`` is the highest live version, a stage is
the highest version in that stage, a version's artifacts are its ``storage_location`` (else its
``source``), and ``runs:/<run>/<name>`` falls back to the run's logged model of that name, as
MLflow 3 does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from pathlib import Path

from mlserve._uri import LoggedModelURI, ModelURI, RegistryURI, RunsURI, parse_model_uri
from mlserve.errors import (
    AliasNotFound,
    ArtifactNotFound,
    InvalidURI,
    LoggedModelNotFound,
    ModelVersionNotFound,
    RegisteredModelNotFound,
    RunNotFound,
    StoreError,
)
from mlserve.store._locations import StoreLocation
from mlserve.store._records import ModelVersion, RegisteredModel, name_filter

__all__ = ["MlflowReader"]

MLMODEL = "MLmodel"
#: a version whose model was registered from another version points through at most this many
_MAX_HOPS = 8
# MLflow marks a deleted version this way in stores that keep its row
_DELETED = "deleted_internal"


class MlflowReader(ABC):
    """Read-only access to one MLflow store: registry, runs, logged models and artifacts."""

    def __init__(self, location: StoreLocation) -> None:
        self.location = location

    @property
    def where(self) -> str:
        """The store's kind and URI, for messages."""
        return self.location.describe()

    # -- what each store kind answers ----------------------------------------------------------

    @abstractmethod
    def model_names(self) -> list[str]:
        """Names of the registered models, sorted."""

    @abstractmethod
    def registered_model(self, name: str) -> RegisteredModel | None:
        """The registered model (with its aliases), or ``None``."""

    @abstractmethod
    def versions(self, name: str) -> list[ModelVersion]:
        """Every version of a registered model that is not deleted, in any order."""

    @abstractmethod
    def run_artifact_uri(self, run_id: str) -> str | None:
        """The artifact root URI of a run, or ``None`` if there is no such run."""

    @abstractmethod
    def logged_model_uri(self, model_id: str) -> str | None:
        """The artifact URI of an MLflow 3 logged model, or ``None``."""

    @abstractmethod
    def run_logged_model_uri(self, run_id: str, name: str) -> str | None:
        """The artifact URI of the newest logged model called ``name`` from ``run_id``."""

    @abstractmethod
    def fetch(self, artifact_uri: str) -> Path:
        """A local directory with the content of ``artifact_uri`` (downloaded if remote).

        Raises ``ArtifactNotFound`` when there is nothing there.
        """

    def version_download_uri(self, version: ModelVersion) -> str:
        """Where a version's artifacts are: its storage location, else its source."""
        return version.storage_location or version.source

    # -- listings, with the names MlserveClient uses -------------------------------------------

    def search_registered_models(self, filter_string: str | None = None) -> list[RegisteredModel]:
        """Registered models sorted by name, each with its ``latest_version``; the filter is
        mlserve's (``name = 'x'``, ``LIKE``, ``ILIKE``, ``!=``)."""
        names = self.model_names()
        if filter_string and filter_string.strip():
            keep = name_filter(filter_string)
            names = [n for n in names if keep(n)]
        found = []
        for name in names:
            model = self.registered_model(name)
            if model is not None:
                latest = max((v.version for v in self.versions(name)), default=None)
                found.append(replace(model, latest_version=latest))
        return found

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        """The live versions of a registered model, ascending."""
        if self.registered_model(name) is None:
            raise RegisteredModelNotFound(name, self.model_names(), store=self.where)
        return sorted(self.versions(name), key=lambda v: v.version)

    # -- MLflow's rules, once ------------------------------------------------------------------

    def version_for(self, uri: RegistryURI) -> ModelVersion:
        """The version a ``models:/`` URI names, by MLflow's rules; errors name the store."""
        model = self.registered_model(uri.name)
        if model is None:
            raise RegisteredModelNotFound(uri.name, self.model_names(), store=self.where)
        live = sorted(self.versions(uri.name), key=lambda v: v.version)
        numbers = [v.version for v in live]
        if uri.alias is not None:
            number = model.aliases.get(uri.alias)
            if number is None:
                raise AliasNotFound(uri.name, uri.alias, model.aliases, store=self.where)
            wanted: int | str = number
            found = [v for v in live if v.version == number]
        elif uri.version is not None:
            wanted = uri.version
            found = [v for v in live if v.version == uri.version]
        elif uri.stage is not None:
            wanted = f"latest in stage {uri.stage!r}"
            found = [v for v in live if v.current_stage.lower() == uri.stage.lower()][-1:]
        else:
            wanted, found = "latest", live[-1:]
        if not found:
            raise ModelVersionNotFound(uri.name, wanted, numbers, store=self.where)
        version = found[0]
        if version.status.upper() != "READY":
            raise StoreError(
                self.where,
                f"version {version.version} of {uri.name!r} has status {version.status}, not "
                "READY: its registration did not complete, so its artifacts may be incomplete.",
            )
        return version

    def resolve(self, uri: ModelURI) -> Path:
        """The local model directory (holding ``MLmodel``) of a ``models:/`` or ``runs:/`` URI."""
        return self._resolve(uri, hops=0)

    def _resolve(self, uri: ModelURI, hops: int) -> Path:
        if hops > _MAX_HOPS:
            raise StoreError(self.where, f"{uri} points through more than {_MAX_HOPS} sources")
        if isinstance(uri, RegistryURI):
            version = self.version_for(uri)
            return self._resolve_location(self.version_download_uri(version), str(uri), hops)
        if isinstance(uri, LoggedModelURI):
            location = self.logged_model_uri(uri.model_id)
            if location is None:
                raise LoggedModelNotFound(uri.model_id, store=self.where)
            return self._model_dir(location, str(uri))
        if isinstance(uri, RunsURI):
            return self._resolve_run(uri)
        raise InvalidURI(str(uri), "a local path is not looked up in a store")

    def _resolve_location(self, location: str, what: str, hops: int) -> Path:
        """A version's source may itself be ``models:/m-...`` or ``runs:/...``: follow it."""
        scheme = location.split(":", 1)[0].lower() if ":" in location else ""
        if scheme in ("models", "runs"):
            return self._resolve(parse_model_uri(location), hops + 1)
        return self._model_dir(location, f"{what} -> {location}")

    def _resolve_run(self, uri: RunsURI) -> Path:
        root = self.run_artifact_uri(uri.run_id)
        if root is None:
            raise RunNotFound(uri.run_id, self.where)
        try:
            return self._model_dir(f"{root.rstrip('/')}/{uri.artifact_path}", str(uri))
        except ArtifactNotFound:
            pass  # MLflow 3 keeps models beside the run: look for a logged model of that name
        name, _, rest = uri.artifact_path.partition("/")
        model = self.run_logged_model_uri(uri.run_id, name)
        if model is None:
            raise ArtifactNotFound(f"{uri} in {self.where}") from None
        return self._model_dir(f"{model.rstrip('/')}/{rest}" if rest else model, str(uri))

    def _model_dir(self, location: str, what: str) -> Path:
        path = self.fetch(location)
        if not (path / MLMODEL).is_file():
            raise ArtifactNotFound(f"{what} in {self.where}: no {MLMODEL} file at {location}")
        return path

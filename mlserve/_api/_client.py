"""``MlserveClient``: the registry and runs of one tracking store, with MLflow's method names."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlserve._uri import RegistryURI
from mlserve.store._artifacts import LocalArtifactStore
from mlserve.store._registry import ModelVersion, RegisteredModel, Registry
from mlserve.store._runs import Run, RunStore
from mlserve.store._tracking import resolve_tracking_root

__all__ = ["MlserveClient"]


class MlserveClient:
    """Manage registered models, versions, aliases and runs in one tracking store.

    ``tracking_uri`` (a local path or ``file://`` URI) is resolved once, when the client is
    built; ``None`` means the tracking location in effect then. Every method reads and writes
    the store directly, so clients in several processes see each other's changes at once.
    Missing things raise ``RegisteredModelNotFound``, ``ModelVersionNotFound``,
    ``AliasNotFound`` or ``RunNotFound``; invalid names raise ``InvalidName``.
    """

    def __init__(self, tracking_uri: str | os.PathLike[str] | None = None) -> None:
        store = LocalArtifactStore(resolve_tracking_root(tracking_uri))
        self.tracking_uri = store.uri
        self._registry = Registry(store)
        self._runs = RunStore(store)

    def __repr__(self) -> str:
        return f"MlserveClient({self.tracking_uri!r})"

    # -- registered models ---------------------------------------------------------------------

    def create_registered_model(
        self, name: str, tags: dict[str, Any] | None = None, description: str = ""
    ) -> RegisteredModel:
        """Create a registered model with no versions; ``ResourceAlreadyExists`` if taken."""
        return self._registry.create_registered_model(name, description=description, tags=tags)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """A registered model with its aliases and ``latest_version``."""
        return self._registry.get_registered_model(name)

    def search_registered_models(self, filter_string: str | None = None) -> list[RegisteredModel]:
        """Registered models sorted by name; ``filter_string`` like ``name LIKE 'fraud%'``."""
        return self._registry.search_registered_models(filter_string)

    def list_registered_models(self) -> list[RegisteredModel]:
        """All registered models sorted by name."""
        return self._registry.search_registered_models()

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        """Replace a registered model's description."""
        return self._registry.update_registered_model(name, description)

    def set_registered_model_tag(self, name: str, key: str, value: object) -> None:
        """Set a tag on a registered model."""
        self._registry.set_registered_model_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag from a registered model."""
        self._registry.delete_registered_model_tag(name, key)

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model, its versions and aliases (run artifacts are kept)."""
        self._registry.delete_registered_model(name)

    # -- model versions ------------------------------------------------------------------------

    def create_model_version(
        self,
        name: str,
        source: str | os.PathLike[str],
        run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        description: str = "",
    ) -> ModelVersion:
        """Publish the next version of an existing registered model from a model URI."""
        return self._registry.create_model_version(
            name, source, run_id=run_id, description=description, tags=tags
        )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """One version of a registered model."""
        return self._registry.get_model_version(name, version)

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        """All versions of a registered model, ascending."""
        return self._registry.list_model_versions(name)

    def search_model_versions(self, name: str) -> list[ModelVersion]:
        """All versions of ``name`` (the same as :meth:`list_model_versions`)."""
        return self._registry.list_model_versions(name)

    def get_latest_version(self, name: str) -> ModelVersion:
        """The highest version of a registered model; ``ModelVersionNotFound`` if it has none."""
        return self._registry.get_latest_version(name)

    def update_model_version(self, name: str, version: int | str, description: str) -> ModelVersion:
        """Replace a version's description (what the version points at never changes)."""
        return self._registry.update_model_version(name, version, description)

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: object) -> None:
        """Set a tag on a model version."""
        self._registry.set_model_version_tag(name, version, key, value)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Remove a tag from a model version."""
        self._registry.delete_model_version_tag(name, version, key)

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete a version and the aliases pointing at it; the number is never reused."""
        self._registry.delete_model_version(name, version)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """The local directory of a version's model, as a string."""
        return str(self.get_model_version_path(name, version))

    def get_model_version_path(self, name: str, version: int | str) -> Path:
        """The local directory of a version's model."""
        self._registry.get_model_version(name, version)
        return self._registry.resolve(RegistryURI(name, version=int(version)))

    # -- aliases -------------------------------------------------------------------------------

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at an existing version, moving it if it pointed elsewhere."""
        self._registry.set_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias; ``AliasNotFound`` if the model has no such alias."""
        self._registry.delete_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at."""
        return self._registry.get_model_version_by_alias(name, alias)

    # -- runs ----------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> Run:
        """A run's info (times, status) and data (params, tags)."""
        return self._runs.get_run(run_id)

    def search_runs(self) -> list[Run]:
        """All runs in the store, oldest first."""
        return self._runs.list_runs()

    def list_artifacts(self, run_id: str) -> list[str]:
        """Top-level artifact names logged in a run."""
        return self._runs.list_artifacts(run_id)

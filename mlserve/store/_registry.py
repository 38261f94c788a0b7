"""The model registry: registered models, their numbered versions, and aliases.

On disk (keys relative to the tracking root)::

    models/<name>/registered_model.yaml   name, times, description, tags   (atomic replace)
    models/<name>/versions/<N>.claim      version number N is taken        (create-if-absent)
    models/<name>/versions/<N>.yaml       what version N points at         (written once)
    models/<name>/versions/<N>.meta.yaml  description and tags of N        (atomic replace)
    models/<name>/aliases/<alias>.yaml    the version an alias points at   (atomic replace)
    models/<name>/artifacts/<N>/          a copy of a model registered from a plain path

A version exists for readers only once ``<N>.yaml`` is there; a claim without it (a writer that
crashed between the two steps) is invisible and its number is never reused.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from mlserve._uri import LocalURI, RegistryURI, RunsURI, parse_model_uri
from mlserve.errors import (
    AliasNotFound,
    ArtifactNotFound,
    InvalidURI,
    ModelVersionNotFound,
    RegisteredModelNotFound,
    ResourceAlreadyExists,
    StoreError,
)
from mlserve.store._artifacts import ArtifactStore, LocalArtifactStore
from mlserve.store._files import now_ms, read_yaml, str_dict, write_yaml, yaml_bytes
from mlserve.store._names import validate_alias, validate_model_name
from mlserve.store._records import ModelVersion, RegisteredModel, name_filter
from mlserve.store._runs import RunStore
from mlserve.store._tracking import resolve_tracking_root

__all__ = ["ModelVersion", "RegisteredModel", "Registry"]

_MODELS = "models"
_RUNS = "runs"
_VERSION_FILE = re.compile(r"^([1-9][0-9]*)\.yaml$")
_NUMBERED = re.compile(r"^([1-9][0-9]*)\.")


class Registry:
    """Registered models, versions and aliases in one tracking store; safe across processes."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store
        self.runs = RunStore(store)

    @classmethod
    def at(cls, tracking_uri: str | os.PathLike[str] | None = None) -> Registry:
        """The registry at ``tracking_uri`` (default: the tracking location in effect)."""
        return cls(LocalArtifactStore(resolve_tracking_root(tracking_uri)))

    # -- keys ----------------------------------------------------------------------------------

    @property
    def where(self) -> str:
        """This store's kind and location, for not-found messages."""
        return f"mlserve's store {self.store.uri}"

    def _key(self, name: str, *rest: str) -> str:
        return "/".join([_MODELS, validate_model_name(name), *rest])

    def _model_key(self, name: str) -> str:
        return self._key(name, "registered_model.yaml")

    # -- registered models ---------------------------------------------------------------------

    def names(self) -> list[str]:
        """Names of all registered models, sorted."""
        return [
            n
            for n in self.store.list_dir(_MODELS)
            if self.store.exists(f"{_MODELS}/{n}/registered_model.yaml")
        ]

    def create_registered_model(
        self, name: str, description: str = "", tags: dict[str, Any] | None = None
    ) -> RegisteredModel:
        """Create an empty registered model; ``ResourceAlreadyExists`` if the name is taken.

        The model directory is built under a hidden name and renamed into place, so a racing
        creator either wins whole or gets ``ResourceAlreadyExists``.
        """
        key = self._key(name)
        if self.store.exists(self._model_key(name)):
            raise ResourceAlreadyExists("Registered model", name)
        now = now_ms()
        record = {
            "name": name,
            "creation_timestamp": now,
            "last_updated_timestamp": now,
            "description": description or "",
            "tags": str_dict(tags),
        }
        staging = self.store.staging_dir(key)
        try:
            (staging / "registered_model.yaml").write_bytes(yaml_bytes(record))
            self.store.publish_dir(staging, key)
        except ResourceAlreadyExists:
            raise ResourceAlreadyExists("Registered model", name) from None
        finally:
            self.store.discard(staging)
        return self.get_registered_model(name)

    def _record(self, name: str) -> dict[str, Any]:
        data = read_yaml(self.store, self._model_key(name))
        if data is None:
            raise RegisteredModelNotFound(name, self.names(), store=self.where)
        return data

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Read a registered model; ``RegisteredModelNotFound`` lists the existing names."""
        data = self._record(name)
        versions = self.version_numbers(name)
        return RegisteredModel(
            name=name,
            creation_timestamp=int(data["creation_timestamp"]),
            last_updated_timestamp=int(data["last_updated_timestamp"]),
            description=str(data.get("description") or ""),
            tags=str_dict(data.get("tags")),
            aliases=self.aliases(name),
            latest_version=versions[-1] if versions else None,
        )

    def search_registered_models(self, filter_string: str | None = None) -> list[RegisteredModel]:
        """Registered models sorted by name, optionally filtered MLflow-style.

        ``filter_string`` may be ``name = 'x'``, ``name != 'x'``, ``name LIKE 'pat%'`` or
        ``name ILIKE 'pat%'`` (``%`` any run of characters, ``_`` one character). Anything else
        raises ``InvalidParameterValue``.
        """
        names = self.names()
        if filter_string and filter_string.strip():
            keep = name_filter(filter_string)
            names = [n for n in names if keep(n)]
        return [self.get_registered_model(n) for n in names]

    def _update_record(self, name: str, **changes: Any) -> RegisteredModel:
        data = self._record(name)
        data.update(changes, last_updated_timestamp=now_ms())
        write_yaml(self.store, self._model_key(name), data)
        return self.get_registered_model(name)

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        """Replace the description of a registered model."""
        return self._update_record(name, description=description or "")

    def set_registered_model_tag(self, name: str, key: str, value: object) -> RegisteredModel:
        """Set one tag on a registered model."""
        tags = {**str_dict(self._record(name).get("tags")), str(key): str(value)}
        return self._update_record(name, tags=tags)

    def delete_registered_model_tag(self, name: str, key: str) -> RegisteredModel:
        """Remove one tag from a registered model (a missing tag is fine)."""
        tags = str_dict(self._record(name).get("tags"))
        tags.pop(str(key), None)
        return self._update_record(name, tags=tags)

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with all its versions and aliases (one atomic rename)."""
        self._record(name)
        self.store.delete_tree(self._key(name))

    # -- versions ------------------------------------------------------------------------------

    def version_numbers(self, name: str) -> list[int]:
        """Published version numbers of a model, ascending (claims without a record are skipped)."""
        found = (_VERSION_FILE.match(n) for n in self.store.list_dir(self._key(name, "versions")))
        return sorted(int(m.group(1)) for m in found if m)

    def _claimed_numbers(self, name: str) -> list[int]:
        found = (_NUMBERED.match(n) for n in self.store.list_dir(self._key(name, "versions")))
        return [int(m.group(1)) for m in found if m]

    def _claim_version(self, name: str) -> int:
        """Take the next free version number with create-if-absent; losers of a race move on."""
        number = max(self._claimed_numbers(name), default=0) + 1
        while not self.store.create_if_absent(
            self._key(name, "versions", f"{number}.claim"), f"pid {os.getpid()}\n".encode()
        ):
            number = max([number, *self._claimed_numbers(name)]) + 1
        return number

    def create_model_version(
        self,
        name: str,
        source: str | os.PathLike[str],
        run_id: str | None = None,
        description: str = "",
        tags: dict[str, Any] | None = None,
    ) -> ModelVersion:
        """Publish the next version of ``name`` pointing at the model at ``source``.

        ``source`` may be any model URI. Run artifacts (``runs:/``, or a ``models:/`` version
        that points at one) are referenced in place, since they never change; anything else
        (plain paths, ``file://``, another model's registry copy) is copied into the registry so
        the version cannot change under its readers. The registered model must exist
        (``RegisteredModelNotFound``); the source must hold an MLmodel file (``ArtifactNotFound``,
        ``RunNotFound``, ...).
        """
        self._record(name)
        source = os.fspath(source)
        storage, source_run, local = self._storage_for(source)
        staging = None
        if local is not None:  # not a run artifact: copy it in so the version cannot change
            # copied before the number is claimed, so a failed copy burns no version number
            staging = self.store.staging_dir(self._key(name, "artifacts", "new"))
            try:
                shutil.copytree(local, staging, dirs_exist_ok=True)
            except BaseException as exc:
                self.store.discard(staging)
                if isinstance(exc, OSError):  # shutil.Error too: an unreadable source file
                    raise StoreError(source, f"copying it into the registry failed: {exc}") from exc
                raise
        number = self._claim_version(name)
        if staging is not None:
            storage = self._key(name, "artifacts", str(number))
            try:
                self.store.publish_dir(staging, storage)
            finally:
                self.store.discard(staging)
        now = now_ms()
        pointer = {
            "name": name,
            "version": number,
            "source": source,
            "storage_location": storage,
            "run_id": run_id or source_run,
            "creation_timestamp": now,
        }
        meta = {
            "description": description or "",
            "tags": str_dict(tags),
            "last_updated_timestamp": now,
        }
        # metadata first: the version becomes visible with its pointer, already complete
        write_yaml(self.store, self._key(name, "versions", f"{number}.meta.yaml"), meta)
        write_yaml(self.store, self._key(name, "versions", f"{number}.yaml"), pointer)
        return self.get_model_version(name, number)

    def _storage_for(self, source: str) -> tuple[str, str | None, Path | None]:
        """``(store key, run id, local dir to copy or None)`` for the model ``source`` names.

        Run artifacts are referenced in place; anything else (a plain path, a version whose
        copy belongs to another registered model) is copied into the new version.
        """
        parsed = parse_model_uri(source)
        if isinstance(parsed, RunsURI):
            self.runs.artifact_dir(parsed.run_id, parsed.artifact_path)
            return self.runs.artifact_key(parsed.run_id, parsed.artifact_path), parsed.run_id, None
        if isinstance(parsed, RegistryURI):
            version = self._version_for(parsed)
            if version.storage_location.startswith(f"{_RUNS}/"):
                return version.storage_location, version.run_id, None
            return "", version.run_id, self.resolve(parsed)
        assert isinstance(parsed, LocalURI)
        from mlserve.store._resolve import resolve_model_uri

        return "", None, resolve_model_uri(parsed.path)

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Read one version; ``ModelVersionNotFound`` lists the versions that exist."""
        number = self._as_number(name, version)
        pointer = read_yaml(self.store, self._key(name, "versions", f"{number}.yaml"))
        if pointer is None:
            self._record(name)
            raise ModelVersionNotFound(name, version, self.version_numbers(name), store=self.where)
        meta = read_yaml(self.store, self._key(name, "versions", f"{number}.meta.yaml")) or {}
        created = int(pointer["creation_timestamp"])
        return ModelVersion(
            name=name,
            version=number,
            source=str(pointer["source"]),
            storage_location=str(pointer["storage_location"]),
            run_id=None if pointer.get("run_id") is None else str(pointer["run_id"]),
            creation_timestamp=created,
            last_updated_timestamp=int(meta.get("last_updated_timestamp", created)),
            description=str(meta.get("description") or ""),
            tags=str_dict(meta.get("tags")),
            aliases=tuple(a for a, v in self.aliases(name).items() if v == number),
        )

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        """All published versions of a registered model, ascending."""
        self._record(name)
        return [self.get_model_version(name, n) for n in self.version_numbers(name)]

    def get_latest_version(self, name: str) -> ModelVersion:
        """The highest published version; ``ModelVersionNotFound`` if the model has none."""
        self._record(name)
        numbers = self.version_numbers(name)
        if not numbers:
            raise ModelVersionNotFound(name, "latest", [], store=self.where)
        return self.get_model_version(name, numbers[-1])

    def _update_meta(self, name: str, version: int | str, **changes: Any) -> ModelVersion:
        current = self.get_model_version(name, version)
        meta = {"description": current.description, "tags": dict(current.tags), **changes}
        meta["last_updated_timestamp"] = now_ms()
        write_yaml(self.store, self._key(name, "versions", f"{current.version}.meta.yaml"), meta)
        return self.get_model_version(name, current.version)

    def update_model_version(self, name: str, version: int | str, description: str) -> ModelVersion:
        """Replace the description of a version (what it points at never changes)."""
        return self._update_meta(name, version, description=description or "")

    def set_model_version_tag(
        self, name: str, version: int | str, key: str, value: object
    ) -> ModelVersion:
        """Set one tag on a version."""
        tags = {**self.get_model_version(name, version).tags, str(key): str(value)}
        return self._update_meta(name, version, tags=tags)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> ModelVersion:
        """Remove one tag from a version (a missing tag is fine)."""
        tags = dict(self.get_model_version(name, version).tags)
        tags.pop(str(key), None)
        return self._update_meta(name, version, tags=tags)

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Unpublish a version and drop the aliases pointing at it; its number is not reused."""
        current = self.get_model_version(name, version)
        for alias in current.aliases:
            self.store.delete(self._key(name, "aliases", f"{alias}.yaml"))
        self.store.delete(self._key(name, "versions", f"{current.version}.yaml"))
        self.store.delete(self._key(name, "versions", f"{current.version}.meta.yaml"))
        self.store.delete_tree(self._key(name, "artifacts", str(current.version)))

    # -- aliases -------------------------------------------------------------------------------

    def aliases(self, name: str) -> dict[str, int]:
        """``{alias: version}`` for a registered model."""
        result: dict[str, int] = {}
        for entry in self.store.list_dir(self._key(name, "aliases")):
            if not entry.endswith(".yaml"):  # a stray file (a README, an editor's backup)
                continue
            data = read_yaml(self.store, self._key(name, "aliases", entry))
            if data is not None:
                result[entry.removesuffix(".yaml")] = int(data["version"])
        return result

    def set_alias(self, name: str, alias: str, version: int | str) -> ModelVersion:
        """Point ``alias`` at an existing version (moving it if it pointed elsewhere)."""
        validate_alias(alias)
        current = self.get_model_version(name, version)
        record = {"alias": alias, "version": current.version}
        write_yaml(self.store, self._key(name, "aliases", f"{alias}.yaml"), record)
        return self.get_model_version(name, current.version)

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove an alias; ``AliasNotFound`` lists the model's aliases if it does not exist."""
        validate_alias(alias)
        existing = self.aliases(name) if self.store.exists(self._model_key(name)) else None
        if existing is None:
            self._record(name)
        elif alias not in existing:
            raise AliasNotFound(name, alias, existing, store=self.where)
        self.store.delete(self._key(name, "aliases", f"{alias}.yaml"))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at; ``AliasNotFound`` lists the model's aliases."""
        validate_alias(alias)
        self._record(name)
        existing = self.aliases(name)
        if alias not in existing:
            raise AliasNotFound(name, alias, existing, store=self.where)
        return self.get_model_version(name, existing[alias])

    def _as_number(self, name: str, version: int | str) -> int:
        text = str(version).strip()
        if isinstance(version, bool) or not (text.isascii() and text.isdigit()) or int(text) < 1:
            self._record(name)
            raise ModelVersionNotFound(name, version, self.version_numbers(name), store=self.where)
        return int(text)

    # -- resolution ----------------------------------------------------------------------------

    def _version_for(self, uri: RegistryURI) -> ModelVersion:
        if uri.stage is not None:
            raise InvalidURI(str(uri), "mlserve's registry has no stages: use an alias")
        if uri.alias is not None:
            return self.get_model_version_by_alias(uri.name, uri.alias)
        if uri.version is not None:
            return self.get_model_version(uri.name, uri.version)
        return self.get_latest_version(uri.name)

    def resolve(self, uri: RegistryURI) -> Path:
        """The local model directory of a ``models:/`` URI."""
        version = self._version_for(uri)
        path = self.store.local_path(version.storage_location)
        if not (path / "MLmodel").is_file():
            raise ArtifactNotFound(f"{uri} -> {version.source}")
        return path

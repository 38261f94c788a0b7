"""MLflow's file store (``./mlruns`` with ``meta.yaml`` files), read-only.

The layout MLflow 2.x and 3.x write::

    <root>/<experiment_id>/meta.yaml                         an experiment
    <root>/<experiment_id>/<run_id>/meta.yaml                a run (artifact_uri)
    <root>/<experiment_id>/models/<model_id>/meta.yaml       an MLflow 3 logged model
    <root>/models/<name>/meta.yaml                           a registered model
    <root>/models/<name>/tags/<key>                          its tags, one file each
    <root>/models/<name>/aliases/<alias>                     an alias (the file holds the version)
    <root>/models/<name>/version-<n>/meta.yaml               a version (source, storage_location)
    <root>/models/<name>/version-<n>/tags/<key>              its tags

Names from URIs become path components here, so each is checked to stay one component.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from mlserve.errors import InvalidName, StoreError
from mlserve.store._locations import StoreLocation
from mlserve.store._mlflow._artifacts import fetch_artifacts
from mlserve.store._mlflow._reader import _DELETED, MlflowReader
from mlserve.store._names import validate_run_id
from mlserve.store._records import ModelVersion, RegisteredModel

__all__ = ["FileStoreReader"]

_META = "meta.yaml"


def _component(kind: str, name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise InvalidName(kind, name.replace("\x00", "\\x00"), "it cannot name a store entry")
    return name


class FileStoreReader(MlflowReader):
    """MLflow's file store at ``location.path``."""

    def __init__(self, location: StoreLocation) -> None:
        super().__init__(location)
        assert location.path is not None
        self.root = location.path

    def _meta(self, path: Path) -> dict[str, Any] | None:
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StoreError(self.where, f"{path} cannot be read ({exc.strerror})") from exc
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise StoreError(self.where, f"{path} is not valid YAML") from exc
        if not isinstance(data, dict):
            raise StoreError(self.where, f"{path} is not a YAML mapping")
        return data

    def _entries(self, directory: Path) -> dict[str, str]:
        """``{file name: stripped content}`` of a tags or aliases directory."""
        found = {}
        try:
            names = sorted(os.listdir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return {}
        for name in names:
            path = directory / name
            if path.is_file():
                found[name] = path.read_text(encoding="utf-8").strip()
        return found

    def _experiments(self) -> list[Path]:
        try:
            with os.scandir(self.root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return []
        return [
            Path(e.path)
            for e in entries
            if e.is_dir()
            and e.name not in ("models", ".trash")
            and (Path(e.path) / _META).is_file()
        ]

    # -- registry ------------------------------------------------------------------------------

    def _registered_dir(self, name: str) -> Path:
        return self.root / "models" / _component("registered model", name)

    def model_names(self) -> list[str]:
        models = self.root / "models"
        try:
            names = os.listdir(models)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(n for n in names if (models / n / _META).is_file())

    def registered_model(self, name: str) -> RegisteredModel | None:
        directory = self._registered_dir(name)
        meta = self._meta(directory / _META)
        if meta is None:
            return None
        aliases: dict[str, int] = {}
        listed = meta.get("aliases") or {}
        # MLflow has written aliases both as a mapping in meta.yaml and as one file per alias
        if isinstance(listed, dict):
            aliases.update({str(k): int(v) for k, v in listed.items()})
        elif isinstance(listed, list):
            aliases.update({str(a["alias"]): int(a["version"]) for a in listed})
        aliases.update({k: int(v) for k, v in self._entries(directory / "aliases").items()})
        created = int(meta.get("creation_timestamp") or 0)
        return RegisteredModel(
            name=name,
            creation_timestamp=created,
            last_updated_timestamp=int(meta.get("last_updated_timestamp") or created),
            description=str(meta.get("description") or ""),
            tags=self._entries(directory / "tags"),
            aliases=aliases,
        )

    def versions(self, name: str) -> list[ModelVersion]:
        directory = self._registered_dir(name)
        model = self.registered_model(name)
        aliases = model.aliases if model is not None else {}
        try:
            entries = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = []
        for entry in entries:
            number = entry.removeprefix("version-")
            if not entry.startswith("version-") or not number.isdigit():
                continue
            meta = self._meta(directory / entry / _META)
            if meta is None or str(meta.get("current_stage") or "").lower() == _DELETED:
                continue
            version = int(number)
            created = int(meta.get("creation_timestamp") or 0)
            run_id = meta.get("run_id")
            found.append(
                ModelVersion(
                    name=name,
                    version=version,
                    source=str(meta.get("source") or ""),
                    storage_location=str(meta.get("storage_location") or ""),
                    run_id=str(run_id) if run_id else None,
                    creation_timestamp=created,
                    last_updated_timestamp=int(meta.get("last_updated_timestamp") or created),
                    description=str(meta.get("description") or ""),
                    tags=self._entries(directory / entry / "tags"),
                    aliases=tuple(sorted(a for a, v in aliases.items() if v == version)),
                    status=str(meta.get("status") or "READY"),
                    current_stage=str(meta.get("current_stage") or "None"),
                )
            )
        return found

    # -- runs and logged models ----------------------------------------------------------------

    def run_artifact_uri(self, run_id: str) -> str | None:
        validate_run_id(run_id)
        for experiment in self._experiments():
            meta = self._meta(experiment / run_id / _META)
            if meta is not None and meta.get("artifact_uri"):
                return str(meta["artifact_uri"])
        return None

    def _logged_models(self) -> list[dict[str, Any]]:
        found = []
        for experiment in self._experiments():
            models = experiment / "models"
            try:
                ids = sorted(os.listdir(models))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for model_id in ids:
                meta = self._meta(models / model_id / _META)
                if meta is not None:
                    found.append(meta)
        return found

    def logged_model_uri(self, model_id: str) -> str | None:
        _component("logged model id", model_id)
        for experiment in self._experiments():
            meta = self._meta(experiment / "models" / model_id / _META)
            if meta is not None and meta.get("artifact_location"):
                return str(meta["artifact_location"])
        return None

    def run_logged_model_uri(self, run_id: str, name: str) -> str | None:
        matches = [
            m
            for m in self._logged_models()
            if m.get("source_run_id") == run_id and m.get("name") == name
        ]
        matches.sort(key=lambda m: int(m.get("creation_timestamp") or 0), reverse=True)
        return str(matches[0]["artifact_location"]) if matches else None

    def fetch(self, artifact_uri: str) -> Path:
        bases = [self.root.parent, Path.cwd()]
        return fetch_artifacts(artifact_uri, bases=bases, server=None, where=self.where)

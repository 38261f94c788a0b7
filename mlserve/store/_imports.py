"""Copy registered model versions from one of MLflow's stores into mlserve's own store.

The copy keeps what a team relies on: the model directory (its artifacts byte for byte, its
MLmodel with every key), the registered model's description and tags, each version's description
and tags, and the aliases that point at it. MLflow records no digests of a model's files; the
copy gets them (``mlserve_digests`` in its MLmodel, as a model mlserve saves has), so from the
import on a changed file is refused at load, as in any mlserve model. The MLflow store is only
read. Each version is published in mlserve's registry the way every version is (copied under a
temporary name, then made visible at once), so an interrupted import leaves no half version;
running it again adds new versions.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlserve._uri import RegistryURI, parse_model_uri
from mlserve.errors import InvalidURI, ResourceAlreadyExists, UnsupportedStore
from mlserve.mlmodel._files import compute_digests
from mlserve.mlmodel._model import Model
from mlserve.store._artifacts import LocalArtifactStore
from mlserve.store._locations import (
    ENV_MLFLOW_REGISTRY_URI,
    ENV_MLFLOW_TRACKING_URI,
    StoreLocation,
    locate,
    mlflow_default_locations,
)
from mlserve.store._mlflow import MlflowReader, open_reader
from mlserve.store._records import ModelVersion
from mlserve.store._registry import Registry
from mlserve.store._tracking import resolve_tracking_root

__all__ = ["ImportedVersion", "import_model_versions", "mlflow_source"]

#: the tag each imported version carries: where it came from
IMPORTED_FROM_TAG = "mlserve.imported_from"


@dataclass(frozen=True)
class ImportedVersion:
    """One version copied across: where it came from and what it is now."""

    source: str
    version: ModelVersion


def mlflow_source(from_uri: str | os.PathLike[str] | None = None) -> StoreLocation:
    """The MLflow store to import from: ``from_uri``, else ``MLFLOW_REGISTRY_URI`` or
    ``MLFLOW_TRACKING_URI``, else MLflow's default store in the working directory."""
    if from_uri is not None and os.fspath(from_uri).strip():
        location = locate(from_uri, ENV_MLFLOW_TRACKING_URI)
    else:
        env = next(
            (
                (os.environ[v].strip(), v)
                for v in (ENV_MLFLOW_REGISTRY_URI, ENV_MLFLOW_TRACKING_URI)
                if os.environ.get(v, "").strip()
            ),
            None,
        )
        if env is not None:
            location = locate(*env)
        else:
            found = mlflow_default_locations()
            if not found:
                raise UnsupportedStore(
                    ".",
                    "no MLflow store here (no ./mlflow.db, no MLflow ./mlruns): name one with "
                    "--from sqlite:///<path>, --from <mlruns dir> or --from http(s)://<server>",
                )
            location = found[0]
    if not location.read_only:
        raise UnsupportedStore(location.uri, f"{location.describe()} is not one of MLflow's stores")
    return location


def import_model_versions(
    model_uri: str,
    *,
    from_uri: str | os.PathLike[str] | None = None,
    tracking_uri: str | os.PathLike[str] | None = None,
    name: str | None = None,
    all_versions: bool = False,
) -> list[ImportedVersion]:
    """Copy the version ``model_uri`` names (or, with ``all_versions``, every version of that
    registered model, oldest first) from an MLflow store into mlserve's store.

    ``from_uri`` is the MLflow store (see :func:`mlflow_source`); ``tracking_uri`` the mlserve
    store written to (default: the one in effect); ``name`` registers under another name.
    Raises ``InvalidURI`` unless ``model_uri`` is a ``models:/<name>/...`` URI,
    ``ReadOnlyStore`` when the destination is itself an MLflow store, and the not-found errors
    of the source.
    """
    parsed = parse_model_uri(model_uri)
    if not isinstance(parsed, RegistryURI):
        raise InvalidURI(model_uri, "import copies registered versions: use models:/<name>/...")
    reader = open_reader(mlflow_source(from_uri))
    registry = Registry(
        LocalArtifactStore(resolve_tracking_root(tracking_uri, action="import into it"))
    )
    target = name or parsed.name
    chosen = reader.version_for(parsed)  # also checks the model and the version exist
    versions = sorted(reader.versions(parsed.name), key=lambda v: v.version)
    if not all_versions:
        versions = [chosen]
    model = reader.registered_model(parsed.name)
    assert model is not None  # version_for found it
    with contextlib.suppress(ResourceAlreadyExists):
        registry.create_registered_model(target, model.description, model.tags)
    return [_copy(reader, registry, target, v, model.aliases) for v in versions]


def _copy(
    reader: MlflowReader,
    registry: Registry,
    target: str,
    version: ModelVersion,
    aliases: dict[str, int],
) -> ImportedVersion:
    source = f"models:/{version.name}/{version.version}"
    directory = reader.resolve(RegistryURI(version.name, version=version.version))
    with tempfile.TemporaryDirectory(prefix="mlserve-import-") as scratch:
        copy = Path(scratch) / "model"
        shutil.copytree(directory, copy, symlinks=True)
        model = Model.load(copy)
        if model.mlserve_digests is None:  # what it had is kept: it is checked at load
            model.mlserve_digests = compute_digests(copy)
            model.save(copy)
        return _register(registry, target, version, copy, source, reader.where, aliases)


def _register(
    registry: Registry,
    target: str,
    version: ModelVersion,
    directory: Path,
    source: str,
    where: str,
    aliases: dict[str, int],
) -> ImportedVersion:
    tags = {**version.tags, IMPORTED_FROM_TAG: f"{where} {source}"}
    if version.current_stage not in ("None", ""):
        # mlserve has no stages; keep the fact where a reader of the version can see it
        tags["mlflow.stage"] = version.current_stage
    new = registry.create_model_version(
        target, directory, run_id=version.run_id, description=version.description, tags=tags
    )
    for alias, number in sorted(aliases.items()):
        if number == version.version:
            new = registry.set_alias(target, alias, new.version)
    return ImportedVersion(source=source, version=new)

"""YAML documents in an artifact store, and timestamps: the helpers runs and registry share."""

from __future__ import annotations

import time
from typing import Any

import yaml

from mlserve.errors import ArtifactNotFound, InvalidParameterValue, MlserveError
from mlserve.store._artifacts import ArtifactStore


def now_ms() -> int:
    """Milliseconds since the epoch, the unit MLflow uses for run and registry timestamps."""
    return int(time.time() * 1000)


def read_yaml(store: ArtifactStore, key: str) -> dict[str, Any] | None:
    """The mapping stored at ``key``, or ``None`` if there is no such document.

    A document that is not a YAML mapping can only come from editing the store by hand; it
    raises :class:`~mlserve.errors.MlserveError` naming the file.
    """
    try:
        raw = store.read_bytes(key)
    except ArtifactNotFound:
        return None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise MlserveError(f"Corrupt store file {store.uri}/{key}: not valid YAML.") from exc
    if not isinstance(data, dict):
        raise MlserveError(f"Corrupt store file {store.uri}/{key}: expected a mapping.")
    return data


def yaml_bytes(data: dict[str, Any]) -> bytes:
    """The UTF-8 YAML form of a mapping, keys in insertion order."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


def write_yaml(store: ArtifactStore, key: str, data: dict[str, Any]) -> None:
    """Replace the document at ``key`` atomically."""
    store.write_bytes(key, yaml_bytes(data))


def str_dict(value: object) -> dict[str, str]:
    """A ``{str: str}`` copy of a tags / params mapping (``None`` is empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidParameterValue(f"Expected a mapping of tags, got {type(value).__name__}.")
    return {str(k): str(v) for k, v in value.items()}

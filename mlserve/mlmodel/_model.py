"""The ``MLmodel`` file: the manifest at the root of every model directory.

Same file name, YAML layout and field names as MLflow, so both tools read each other's models.
Fields that are ``None`` are left out of the file (as MLflow does); keys this version does not
know are kept in :attr:`Model.extra` and written back unchanged. The reference is
``docs/mlmodel.md``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from mlserve.errors import InvalidSignature, MalformedModel, MlserveError
from mlserve.schema import ModelSignature

__all__ = ["MLMODEL_FILE_NAME", "Model", "ModelInfo"]

MLMODEL_FILE_NAME = "MLmodel"

# the fields Model knows, in the order they are documented; anything else goes to ``extra``
_FIELDS = (
    "artifact_path",
    "flavors",
    "metadata",
    "mlserve_digests",
    "mlserve_version",
    "model_uuid",
    "run_id",
    "saved_input_example_info",
    "signature",
    "utc_time_created",
)


def _utc_now() -> str:
    # MLflow writes str(datetime.utcnow()): "2026-08-04 11:00:46.002863"
    return str(datetime.now(timezone.utc).replace(tzinfo=None))


def _new_uuid() -> str:
    return uuid.uuid4().hex


@dataclass
class Model:
    """One ``MLmodel`` file.

    ``flavors`` maps each flavor name to its section (a plain mapping, written as YAML);
    ``signature`` is a :class:`~mlserve.schema.ModelSignature` or ``None``;
    ``saved_input_example_info`` says where the input example is (``artifact_path``,
    ``serving_input_path``, ``type``, ...). ``extra`` holds the top-level keys this version does
    not know (``mlflow_version``, ``model_size_bytes``, ``databricks_runtime``, ...) so a
    read-modify-write keeps them. ``mlserve_digests`` is the sha256 of every other file of the
    directory, recorded by ``save_model`` and checked at load (``mlserve.mlmodel._files``);
    MLflow ignores the key.
    """

    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    model_uuid: str | None = field(default_factory=_new_uuid)
    utc_time_created: str | None = field(default_factory=_utc_now)
    run_id: str | None = None
    artifact_path: str | None = None
    metadata: dict[str, Any] | None = None
    mlserve_version: str | None = None
    mlserve_digests: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- building ------------------------------------------------------------------------------

    def add_flavor(self, name: str, **section: Any) -> Model:
        """Add (or replace) the section of flavor ``name``; returns ``self`` for chaining."""
        self.flavors[name] = dict(section)
        return self

    def get_input_schema(self) -> Any:
        """The signature's input :class:`~mlserve.schema.Schema`, or ``None``."""
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Any:
        """The signature's output :class:`~mlserve.schema.Schema`, or ``None``."""
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self) -> Any:
        """The signature's :class:`~mlserve.schema.ParamSchema`, or ``None``."""
        return self.signature.params if self.signature is not None else None

    # -- serialising ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The YAML document as a plain dict: known fields first, then ``extra``, no ``None``s.

        The signature becomes ``{"inputs": <json str>, "outputs": ..., "params": ...}``.
        """
        out: dict[str, Any] = dict(self.extra)
        for name in _FIELDS:
            value = getattr(self, name)
            if name == "signature" and value is not None:
                value = value.to_dict()
            if value is not None:
                out[name] = value
        return out

    def to_yaml(self) -> str:
        """The text of the ``MLmodel`` file (keys sorted, as MLflow writes them)."""
        return yaml.safe_dump(self.to_dict(), default_flow_style=False, sort_keys=True)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``MLmodel`` into the directory ``path`` (created if missing); returns the file."""
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / MLMODEL_FILE_NAME
        target.write_text(self.to_yaml(), encoding="utf-8")
        return target

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> Model:
        """Build a :class:`Model` from a parsed ``MLmodel`` document.

        Raises :class:`~mlserve.errors.MalformedModel` (naming ``source``) when ``flavors`` is
        missing or not a mapping of mappings, and :class:`~mlserve.errors.InvalidSignature` when
        the signature does not parse.
        """
        if not isinstance(data, Mapping):
            raise MalformedModel(source, f"expected a YAML mapping, found {type(data).__name__}")
        flavors = data.get("flavors")
        if not isinstance(flavors, Mapping) or not flavors:
            raise MalformedModel(source, "'flavors' must be a non-empty mapping of name to section")
        for name, section in flavors.items():
            if not isinstance(name, str) or not isinstance(section, Mapping):
                raise MalformedModel(source, f"flavor {name!r} must map to a section (a mapping)")
        signature = None
        if data.get("signature") is not None:
            try:
                signature = ModelSignature.from_dict(data["signature"])
            except InvalidSignature as exc:  # name the file: the reader may have many models
                raise InvalidSignature(f"{exc.reason} (in {source})") from exc
            except MlserveError:
                raise
            except Exception as exc:  # a schema that is not JSON, or JSON of the wrong shape
                raise InvalidSignature(f"{type(exc).__name__}: {exc} (in {source})") from exc
        example = data.get("saved_input_example_info")
        if example is not None and not isinstance(example, Mapping):
            raise MalformedModel(source, "'saved_input_example_info' must be a mapping")
        metadata = data.get("metadata")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise MalformedModel(source, "'metadata' must be a mapping")
        digests = data.get("mlserve_digests")
        if digests is not None and not isinstance(digests, Mapping):
            raise MalformedModel(source, "'mlserve_digests' must be a mapping")

        def text(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value)

        return cls(
            flavors={name: dict(section) for name, section in flavors.items()},
            signature=signature,
            saved_input_example_info=dict(example) if example is not None else None,
            model_uuid=text("model_uuid"),
            utc_time_created=text("utc_time_created"),
            run_id=text("run_id"),
            artifact_path=text("artifact_path"),
            metadata=dict(metadata) if metadata is not None else None,
            mlserve_version=text("mlserve_version"),
            mlserve_digests=dict(digests) if digests is not None else None,
            extra={k: v for k, v in data.items() if k not in _FIELDS},
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read an ``MLmodel`` file, given the file itself or the model directory holding it.

        Raises :class:`~mlserve.errors.MalformedModel` when the file is missing, unreadable, not
        YAML or has no usable ``flavors``; :class:`~mlserve.errors.InvalidSignature` when the
        signature does not parse.
        """
        target = Path(path)
        if target.is_dir():
            target = target / MLMODEL_FILE_NAME
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise MalformedModel(str(path), f"no {MLMODEL_FILE_NAME} file found") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise MalformedModel(str(path), f"cannot read {MLMODEL_FILE_NAME}: {exc}") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise MalformedModel(
                str(path), f"{MLMODEL_FILE_NAME} is not valid YAML{where}"
            ) from exc
        return cls.from_dict(data, source=str(path))


@dataclass(frozen=True)
class ModelInfo:
    """What logging a model produced: where it is and what its ``MLmodel`` says.

    ``model_uri`` loads it back with :func:`mlserve.load_model`; ``registered_model_version`` is
    set when the model was also registered.
    """

    run_id: str | None
    artifact_path: str | None
    model_uri: str
    flavors: dict[str, dict[str, Any]]
    signature: ModelSignature | None
    model_uuid: str | None
    utc_time_created: str | None
    registered_model_version: int | None = None
    metadata: dict[str, Any] | None = None

    @classmethod
    def from_model(
        cls, model: Model, model_uri: str, *, registered_model_version: int | None = None
    ) -> ModelInfo:
        """Describe ``model`` (its ``MLmodel``) as found at ``model_uri``."""
        return cls(
            run_id=model.run_id,
            artifact_path=model.artifact_path,
            model_uri=model_uri,
            flavors=model.flavors,
            signature=model.signature,
            model_uuid=model.model_uuid,
            utc_time_created=model.utc_time_created,
            registered_model_version=registered_model_version,
            metadata=model.metadata,
        )

"""The :class:`ModelSignature`: input and output schemas and inference params of a model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlserve.errors import InvalidSignature
from mlserve.schema._params import ParamSchema
from mlserve.schema._types import Schema

__all__ = ["ModelSignature"]


def _read(value: Any, cls: type[Schema] | type[ParamSchema], key: str) -> Any:
    if value is None:
        return None
    if isinstance(value, cls):
        return value
    try:
        if isinstance(value, str):
            return cls.from_json(value)
        if isinstance(value, list):  # already-parsed JSON, as some tools write it
            return cls.from_dict(value)
    except InvalidSignature as exc:  # say which part of the signature is broken
        raise InvalidSignature(f"signature {key!r}: {exc.reason}") from exc
    raise InvalidSignature(f"signature {key!r} must be a JSON string, got {type(value).__name__}")


@dataclass(frozen=True)
class ModelSignature:
    """What a model takes and returns: ``inputs`` and ``outputs`` (:class:`Schema`) and ``params``
    (:class:`ParamSchema`), each optional. Equal when all three are equal.

    Raises :class:`InvalidSignature` when a part has the wrong type.
    """

    inputs: Schema | None = None
    outputs: Schema | None = None
    params: ParamSchema | None = None

    def __post_init__(self) -> None:
        for key, cls in (("inputs", Schema), ("outputs", Schema), ("params", ParamSchema)):
            value = getattr(self, key)
            if value is not None and not isinstance(value, cls):
                object.__setattr__(self, key, _read(value, cls, key))

    def to_dict(self) -> dict[str, str | None]:
        """The MLmodel form: each part a JSON string, or ``None`` when absent."""
        return {
            "inputs": self.inputs.to_json() if self.inputs is not None else None,
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": self.params.to_json() if self.params is not None else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelSignature:
        """Read the MLmodel form (JSON strings, or lists); missing keys mean absent parts.

        Unknown keys are ignored so a signature from a newer writer still loads.

        Raises :class:`InvalidSignature` for anything that does not parse.
        """
        if not isinstance(d, Mapping):
            raise InvalidSignature(f"a signature must be a mapping, got {type(d).__name__}")
        return cls(
            inputs=_read(d.get("inputs"), Schema, "inputs"),
            outputs=_read(d.get("outputs"), Schema, "outputs"),
            params=_read(d.get("params"), ParamSchema, "params"),
        )

    def __repr__(self) -> str:
        return (
            f"ModelSignature(\n  inputs: {self.inputs!r}\n  outputs: {self.outputs!r}\n"
            f"  params: {self.params!r}\n)"
        )

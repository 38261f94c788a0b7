"""Column and tensor specifications and the :class:`Schema` that lists them.

The JSON forms are exactly MLflow's, so a signature written by either tool reads in the other:
``{"type": "double", "name": "a", "required": true}`` for a column and
``{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}, "name": "x"}`` for a
tensor. Every parse failure raises :class:`~mlserve.errors.InvalidSignature`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from mlserve.errors import InvalidSignature

__all__ = ["ColSpec", "DataType", "Schema", "TensorSpec"]

_NUMPY_TYPES: dict[str, np.dtype] = {
    "boolean": np.dtype("bool"),
    "integer": np.dtype("int32"),
    "long": np.dtype("int64"),
    "float": np.dtype("float32"),
    "double": np.dtype("float64"),
    "string": np.dtype("str"),
    "binary": np.dtype("bytes"),
    "datetime": np.dtype("datetime64[ns]"),
}
# Strings and bytes live in object columns, as in MLflow; the pandas ``str`` dtype is accepted too.
_PANDAS_TYPES: dict[str, Any] = {
    **_NUMPY_TYPES,
    "string": np.dtype("object"),
    "binary": np.dtype("object"),
}


class DataType(Enum):
    """The column types a signature can declare (MLflow's names).

    ``DataType("double")`` and ``DataType["double"]`` both give :attr:`double`.
    """

    boolean = "boolean"
    integer = "integer"
    long = "long"
    float = "float"
    double = "double"
    string = "string"
    binary = "binary"
    datetime = "datetime"

    def __repr__(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name

    def to_numpy(self) -> np.dtype:
        """The numpy dtype (``string`` -> ``<U0``, ``binary`` -> ``|S0``, as in MLflow)."""
        return _NUMPY_TYPES[self.value]

    def to_pandas(self) -> Any:
        """The dtype a pandas column of this type has (``object`` for strings and bytes)."""
        return _PANDAS_TYPES[self.value]

    @classmethod
    def parse(cls, value: DataType | str) -> DataType:
        """Return ``value`` as a :class:`DataType`; raises :class:`InvalidSignature` if unknown."""
        if isinstance(value, DataType):
            return value
        if isinstance(value, str) and value in cls.__members__:
            return cls[value]
        known = ", ".join(cls.__members__)
        raise InvalidSignature(f"unknown data type {value!r}; expected one of {known}")


def _check_name(name: object, what: str) -> str | None:
    if name is None or isinstance(name, str):
        return name
    raise InvalidSignature(f"{what} name must be a string or null, got {type(name).__name__}")


def _expect_mapping(d: object, what: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise InvalidSignature(f"a {what} must be a JSON object, got {type(d).__name__}")
    return d


@dataclass(frozen=True)
class ColSpec:
    """One column of a tabular input: its :class:`DataType`, optional name and whether required.

    ``type`` may be given as a :class:`DataType` or its name. An optional column
    (``required=False``) may be missing from the data or hold nulls.
    Raises :class:`InvalidSignature` for an unknown type or a non-string name.
    """

    type: DataType
    name: str | None = None
    required: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", DataType.parse(self.type))
        _check_name(self.name, "column")
        if not isinstance(self.required, bool):
            raise InvalidSignature("column 'required' must be true or false")

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form: ``{"type": "double", "name": "a", "required": true}``."""
        d: dict[str, Any] = {"type": self.type.name}
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColSpec:
        """Parse the JSON form; also reads the older ``"optional": true`` key MLflow once wrote."""
        d = _expect_mapping(d, "column spec")
        if "type" not in d:
            raise InvalidSignature("a column spec needs a 'type'")
        unknown = set(d) - {"type", "name", "required", "optional"}
        if unknown:
            raise InvalidSignature(f"unknown column spec keys: {', '.join(sorted(unknown))}")
        required = d.get("required", not d.get("optional", False))
        return cls(type=d["type"], name=d.get("name"), required=required)

    def __repr__(self) -> str:
        tail = "" if self.required else " (optional)"
        return f"{self.name!r}: {self.type!r}{tail}" if self.name is not None else f"{self.type!r}"


def _parse_dtype(dtype: object) -> np.dtype:
    try:
        return np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as exc:
        raise InvalidSignature(f"unknown tensor dtype {dtype!r}") from exc


def _dtype_name(dtype: np.dtype) -> str:
    # numpy names flexible types by their width ("str320"); MLflow readers want "str"/"bytes".
    if dtype.kind == "U":
        return "str"
    if dtype.kind == "S":
        return "bytes"
    return dtype.name


def _parse_shape(shape: object) -> tuple[int, ...]:
    if not isinstance(shape, (list, tuple)) or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= -1 for d in shape
    ):
        raise InvalidSignature("a tensor shape must be a list of integers, -1 for any size")
    return tuple(int(d) for d in shape)


@dataclass(frozen=True)
class TensorSpec:
    """One tensor input: a numpy ``dtype``, a ``shape`` where ``-1`` matches any size, a name.

    Raises :class:`InvalidSignature` for a dtype numpy does not know or a malformed shape.
    """

    dtype: np.dtype
    shape: tuple[int, ...]
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", _parse_dtype(self.dtype))
        object.__setattr__(self, "shape", _parse_shape(self.shape))
        _check_name(self.name, "tensor")

    @property
    def type(self) -> np.dtype:
        """The dtype, under MLflow's attribute name."""
        return self.dtype

    @property
    def required(self) -> bool:
        """Tensors are always required."""
        return True

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form: ``{"type": "tensor", "tensor-spec": {...}, "name": ...}``."""
        d: dict[str, Any] = {
            "type": "tensor",
            "tensor-spec": {"dtype": _dtype_name(self.dtype), "shape": list(self.shape)},
        }
        if self.name is not None:
            d["name"] = self.name
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TensorSpec:
        """Parse the JSON form; raises :class:`InvalidSignature` when a key is missing."""
        d = _expect_mapping(d, "tensor spec")
        if d.get("type") != "tensor":
            raise InvalidSignature('a tensor spec needs "type": "tensor"')
        info = _expect_mapping(d.get("tensor-spec"), "'tensor-spec'")
        if "dtype" not in info or "shape" not in info:
            raise InvalidSignature("'tensor-spec' needs 'dtype' and 'shape'")
        return cls(dtype=info["dtype"], shape=info["shape"], name=d.get("name"))

    def __repr__(self) -> str:
        body = f"Tensor({_dtype_name(self.dtype)!r}, {self.shape!r})"
        return f"{self.name!r}: {body}" if self.name is not None else body


def _spec_from_dict(d: object) -> ColSpec | TensorSpec:
    d = _expect_mapping(d, "schema entry")
    if d.get("type") == "tensor":
        return TensorSpec.from_dict(d)
    return ColSpec.from_dict(d)


@dataclass(frozen=True, init=False)
class Schema:
    """The inputs (or outputs) of a model: all :class:`ColSpec` or all :class:`TensorSpec`.

    Either every entry has a name or none does; names are unique. Raises
    :class:`InvalidSignature` otherwise, or for an empty list.
    """

    inputs: tuple[ColSpec | TensorSpec, ...] = field()

    def __init__(self, inputs: Iterable[ColSpec] | Iterable[TensorSpec]) -> None:
        items: tuple[ColSpec | TensorSpec, ...] = tuple(inputs)
        if not items:
            raise InvalidSignature("a schema needs at least one column or tensor")
        if not (
            all(isinstance(x, ColSpec) for x in items)
            or all(isinstance(x, TensorSpec) for x in items)
        ):
            raise InvalidSignature("a schema is all column specs or all tensor specs, not a mix")
        named = [x.name is not None for x in items]
        if any(named) and not all(named):
            raise InvalidSignature("either every input of a schema has a name or none has")
        names = [x.name for x in items if x.name is not None]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise InvalidSignature(f"duplicate input names: {', '.join(map(repr, dupes))}")
        object.__setattr__(self, "inputs", items)

    def is_tensor_spec(self) -> bool:
        """True if the inputs are tensors."""
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        """True if the inputs are named."""
        return self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        """The input names, or their positions when the schema is unnamed."""
        return [x.name if x.name is not None else i for i, x in enumerate(self.inputs)]

    def required_input_names(self) -> list[str | int]:
        """The names (or positions) of the inputs that must be present."""
        return [
            x.name if x.name is not None else i for i, x in enumerate(self.inputs) if x.required
        ]

    def input_types(self) -> list[DataType] | list[np.dtype]:
        """The declared :class:`DataType` of each column, or numpy dtype of each tensor."""
        return [x.type for x in self.inputs]  # type: ignore[return-value]

    def numpy_types(self) -> list[np.dtype]:
        """The numpy dtype of each input."""
        return [x.dtype if isinstance(x, TensorSpec) else x.type.to_numpy() for x in self.inputs]

    def to_dict(self) -> list[dict[str, Any]]:
        """The JSON-ready list of spec dicts."""
        return [x.to_dict() for x in self.inputs]

    def to_json(self) -> str:
        """The JSON string that goes into the MLmodel file."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, items: Sequence[dict[str, Any]]) -> Schema:
        """Build from the list form; raises :class:`InvalidSignature` if it is not one."""
        if not isinstance(items, list):
            raise InvalidSignature(f"a schema must be a JSON list, got {type(items).__name__}")
        return cls([_spec_from_dict(x) for x in items])  # type: ignore[arg-type]

    @classmethod
    def from_json(cls, text: str) -> Schema:
        """Parse the JSON string form; raises :class:`InvalidSignature` on bad JSON or specs."""
        try:
            items = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise InvalidSignature("schema is not valid JSON") from exc
        return cls.from_dict(items)

    def __len__(self) -> int:
        return len(self.inputs)

    def __iter__(self) -> Iterator[ColSpec | TensorSpec]:
        return iter(self.inputs)

    def __repr__(self) -> str:
        return f"Schema([{', '.join(repr(x) for x in self.inputs)}])"

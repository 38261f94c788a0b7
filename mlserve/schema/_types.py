"""Column and tensor specifications and the :class:`Schema` that lists them.

The JSON forms are exactly MLflow's, so a signature written by either tool reads in the other:
``{"type": "double", "name": "a", "required": true}`` for a column and
``{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}, "name": "x"}`` for a
tensor. A column's type is a :class:`DataType` or one of the complex types of
:mod:`mlserve.schema._complex`. Every parse failure raises
:class:`~mlserve.errors.InvalidSignature`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlserve.errors import InvalidSignature
from mlserve.schema._complex import ColumnType, parse_type, type_from_dict, type_text, type_to_dict
from mlserve.schema._datatype import DataType

__all__ = ["ColSpec", "DataType", "Schema", "TensorSpec"]

_OBJECT = np.dtype(object)


def _check_name(name: object, what: str, integers: bool = False) -> None:
    if name is None or isinstance(name, str):
        return
    # MLflow names the columns of a frame with integer labels by those integers (its
    # infer_signature on pd.DataFrame(X) writes "name": 0); tensors are always named by strings
    if integers and isinstance(name, int) and not isinstance(name, bool):
        return
    kinds = "a string, an integer or null" if integers else "a string or null"
    raise InvalidSignature(f"{what} name must be {kinds}, got {type(name).__name__}")


def _expect_mapping(d: object, what: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise InvalidSignature(f"a {what} must be a JSON object, got {type(d).__name__}")
    return d


@dataclass(frozen=True)
class ColSpec:
    """One column of a tabular input: its type, optional name and whether it is required.

    ``type`` is a :class:`DataType` (or its name) or a complex type (:class:`Array`,
    :class:`Object`, :class:`Map`, :class:`AnyType`). ``name`` is a string or, as MLflow writes
    for a frame with integer column labels, an integer; it keeps its type through the JSON
    form. An optional column (``required=False``) may be missing from the data or hold nulls.
    Raises :class:`InvalidSignature` for an unknown type or a name of another type.
    """

    type: ColumnType
    name: str | int | None = None
    required: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", parse_type(self.type))
        _check_name(self.name, "column", integers=True)
        if not isinstance(self.required, bool):
            raise InvalidSignature("column 'required' must be true or false")

    def to_numpy(self) -> np.dtype:
        """The numpy dtype of this column's values (``object`` for the complex types)."""
        return self.type.to_numpy() if isinstance(self.type, DataType) else _OBJECT

    def to_pandas(self) -> Any:
        """The dtype a pandas column of this spec has (``object`` for strings, bytes and the
        complex types)."""
        return self.type.to_pandas() if isinstance(self.type, DataType) else _OBJECT

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form: ``{"type": "double", "name": "a", "required": true}``, or the
        complex type's form with ``name`` and ``required`` added."""
        d = type_to_dict(self.type)
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColSpec:
        """Parse the JSON form; also reads the older ``"optional": true`` key MLflow once wrote."""
        d = _expect_mapping(d, "column spec")
        dtype = type_from_dict(d, "a column spec", frozenset({"name", "required", "optional"}))
        required = d.get("required", not d.get("optional", False))
        # MLflow writes "required": null for a complex column built without saying
        if required is None:
            required = True
        return cls(type=dtype, name=d.get("name"), required=required)

    def __repr__(self) -> str:
        tail = "" if self.required else " (optional)"
        body = type_text(self.type)
        return f"{self.name!r}: {body}{tail}" if self.name is not None else body


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
        # Labels match names by value and type (0 is not "0"), as in MLflow, which lets a
        # column schema declare both (a tensor's name is always a string)
        names = [(type(x.name), x.name) for x in items if x.name is not None]
        if len(set(names)) != len(names):
            dupes = sorted({repr(n) for t, n in names if names.count((t, n)) > 1})
            raise InvalidSignature(f"duplicate input names: {', '.join(dupes)}")
        object.__setattr__(self, "inputs", items)

    def is_tensor_spec(self) -> bool:
        """True if the inputs are tensors."""
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        """True if the inputs are named."""
        return self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        """The input names, or their positions when the schema is unnamed (an integer name
        and a position look alike: :meth:`has_input_names` tells them apart)."""
        return [x.name if x.name is not None else i for i, x in enumerate(self.inputs)]

    def required_input_names(self) -> list[str | int]:
        """The names (or positions) of the inputs that must be present."""
        return [
            x.name if x.name is not None else i for i, x in enumerate(self.inputs) if x.required
        ]

    def input_types(self) -> list[ColumnType] | list[np.dtype]:
        """The declared type of each column, or numpy dtype of each tensor."""
        return [x.type for x in self.inputs]  # type: ignore[return-value]

    def numpy_types(self) -> list[np.dtype]:
        """The numpy dtype of each input."""
        return [x.dtype if isinstance(x, TensorSpec) else x.to_numpy() for x in self.inputs]

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

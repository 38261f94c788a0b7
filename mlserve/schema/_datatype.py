"""The scalar column types a signature can declare: :class:`DataType` (MLflow's names)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np

from mlserve.errors import InvalidSignature

__all__ = ["DataType"]

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

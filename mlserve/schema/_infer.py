"""Infer a :class:`~mlserve.schema._signature.ModelSignature` from example data, as MLflow does.

Tabular data (DataFrame, Series, list of row dicts, dict of columns) gives column specs; arrays
(ndarray, nested lists, dict of ndarrays) give tensor specs with a ``-1`` first dimension; a
params dict gives a :class:`~mlserve.schema._params.ParamSchema`. The rules are tabled in
``docs/signatures.md``. Data that no spec can describe raises
:class:`~mlserve.errors.InvalidSignature` (MLflow logs a warning and drops the signature; we would
rather say so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from mlserve.errors import InvalidSignature
from mlserve.schema._complex import ColumnType
from mlserve.schema._infer_complex import infer_items, is_nested
from mlserve.schema._infer_scalar import numeric_type, scalar_type
from mlserve.schema._kinds import column_kind, value_kind
from mlserve.schema._params import ParamSchema, ParamSpec
from mlserve.schema._signature import ModelSignature
from mlserve.schema._types import ColSpec, DataType, Schema, TensorSpec
from mlserve.schema._values import is_null

__all__ = ["infer_param_schema", "infer_schema", "infer_signature"]

# pandas.api.types.infer_dtype result for an object column -> its DataType
_OBJECT_TYPES: dict[str, DataType] = {
    "string": DataType.string,
    "bytes": DataType.binary,
    "integer": DataType.long,
    "floating": DataType.double,
    "mixed-integer-float": DataType.double,
    "decimal": DataType.double,
    "boolean": DataType.boolean,
    "datetime64": DataType.datetime,
    "datetime": DataType.datetime,
    "date": DataType.datetime,
    # A column with nothing but nulls says nothing about its type; string is the type that
    # accepts it back unchanged, and the column is optional.
    "empty": DataType.string,
}
_FLOATS = (DataType.float, DataType.double)


def _column_type(series: pd.Series, name: str | int | None) -> ColumnType:
    dtype = series.dtype
    found: ColumnType | None = None
    where = f"column {name!r}" if name is not None else "the input"
    if dtype == np.dtype(object) and any(map(is_nested, series.array)):
        # lists and dicts: an Array, Object or Any column, as MLflow infers them
        return infer_items(series.array, where)
    if isinstance(dtype, pd.StringDtype):
        found = DataType.string
    elif isinstance(dtype, pd.CategoricalDtype):
        found = _OBJECT_TYPES.get(infer_dtype(dtype.categories, skipna=True))
    elif dtype == np.dtype(object):
        found = _OBJECT_TYPES.get(infer_dtype(series, skipna=True))
    elif getattr(dtype, "kind", None) is not None:
        found = numeric_type(dtype.kind, dtype.itemsize)
    if found is None:
        raise InvalidSignature(
            f"cannot infer a column type for {where}: it holds {column_kind(series)}"
        )
    return found


def _colspec(series: pd.Series, name: str | int | None) -> ColSpec:
    dtype = _column_type(series, name)
    # NaN is a valid double, so nulls make a column optional only for the other types.
    nulls = series.isna().any() if isinstance(dtype, DataType) else any(map(is_null, series.array))
    required = dtype in _FLOATS or not bool(nulls)
    return ColSpec(dtype, name, required)


def _label(label: object) -> str | int:
    """A column label as a signature name: integer labels stay integers, as MLflow writes them
    (``pd.DataFrame(X)`` gives ``"name": 0``); other labels become strings."""
    if isinstance(label, (int, np.integer)) and not isinstance(label, (bool, np.bool_)):
        return int(label)
    return label if isinstance(label, str) else str(label)


def _frame_schema(df: pd.DataFrame) -> Schema:
    if df.shape[1] == 0:
        raise InvalidSignature("cannot infer a schema from a DataFrame with no columns")
    return Schema([_colspec(df.iloc[:, i], _label(c)) for i, c in enumerate(df.columns)])


def _tensor_spec(array: np.ndarray, name: str | None) -> TensorSpec:
    if array.ndim == 0:
        raise InvalidSignature("cannot infer a tensor from a 0-dimensional array")
    if array.dtype.kind in "cmV":
        raise InvalidSignature(f"cannot infer a tensor spec for dtype {array.dtype}")
    # The first dimension is the batch: any number of rows.
    return TensorSpec(array.dtype, (-1, *array.shape[1:]), name)


def _as_array(values: Any, name: str | None = None) -> np.ndarray:
    try:
        return np.asarray(values)
    except (ValueError, TypeError) as exc:
        where = f" {name!r}" if name is not None else ""
        raise InvalidSignature(f"cannot infer a tensor{where}: rows of unequal length") from exc


def infer_schema(data: Any) -> Schema:
    """The :class:`Schema` describing ``data`` (see :func:`infer_signature` for the rules).

    Raises :class:`InvalidSignature` for data no schema describes (empty, mixed-type columns,
    complex numbers, timedeltas, ragged lists).
    """
    if isinstance(data, pd.DataFrame):
        return _frame_schema(data)
    if isinstance(data, pd.Series):
        name = _label(data.name) if data.name is not None else None
        return Schema([_colspec(data, name)])
    if isinstance(data, np.ndarray):
        return Schema([_tensor_spec(data, None)])
    if isinstance(data, Mapping):
        if not data:
            raise InvalidSignature("cannot infer a schema from an empty dict")
        if any(isinstance(v, np.ndarray) for v in data.values()):
            return Schema([_tensor_spec(_as_array(v, str(k)), str(k)) for k, v in data.items()])
        if all(np.ndim(v) == 0 or _holds_nested(v) for v in data.values()):
            # one row: {"a": 1}, or {"messages": [{"role": ...}]} (a list of lists or dicts is
            # one value of an array column, as MLflow reads it; a flat list stays a column)
            return _frame_schema(_frame([data]))
        return _frame_schema(_frame(data))
    if isinstance(data, (list, tuple)):
        if not data:
            raise InvalidSignature("cannot infer a schema from an empty list")
        if all(isinstance(r, Mapping) for r in data):
            return _frame_schema(_frame(list(data)))
        if all(isinstance(v, str) for v in data):
            return Schema([ColSpec(DataType.string)])
        return Schema([_tensor_spec(_as_array(data), None)])
    if isinstance(data, str):
        return Schema([ColSpec(DataType.string)])
    if isinstance(data, bytes):
        return Schema([ColSpec(DataType.binary)])
    raise InvalidSignature(f"cannot infer a schema from {value_kind(data)}")


def _holds_nested(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, (list, tuple)) and any(map(is_nested, value))
    )


def _frame(data: Any) -> pd.DataFrame:
    try:
        return pd.DataFrame(data)
    except (ValueError, TypeError) as exc:
        raise InvalidSignature("cannot infer a schema: columns of unequal length") from exc


def _param_type(value: Any, name: str) -> DataType:
    found = scalar_type(value, dates=False)
    if found is None:
        raise InvalidSignature(f"cannot infer a type for param {name!r}: it is {value_kind(value)}")
    return found


def _param_spec(name: Any, value: Any) -> ParamSpec:
    if not isinstance(name, str):
        raise InvalidSignature(f"param names must be strings, got {type(name).__name__}")
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise InvalidSignature(f"param {name!r}: only scalars and 1-D lists are supported")
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        return ParamSpec(name, _param_type(value, name), value)
    if not value:
        raise InvalidSignature(f"cannot infer a type for param {name!r} from an empty list")
    types = {_param_type(v, name) for v in value}
    if len(types) > 1 and types <= {DataType.integer, DataType.long, *_FLOATS}:
        types = {DataType.double}  # [1, 2.5] is a list of doubles
    if len(types) > 1:
        raise InvalidSignature(f"param {name!r} is a list of mixed types")
    return ParamSpec(name, types.pop(), list(value), shape=(-1,))


def infer_param_schema(params: Mapping[str, Any]) -> ParamSchema:
    """The :class:`ParamSchema` for example params: each value becomes its param's default.

    Scalars give ``shape=None``; lists, tuples and 1-D arrays give ``shape=(-1,)`` (ints mixed
    with floats make a list of double). Raises :class:`InvalidSignature` for ``None``, empty or
    mixed lists, nested lists and types no :class:`DataType` describes.
    """
    if not isinstance(params, Mapping):
        raise InvalidSignature(f"params must be a dict, got {type(params).__name__}")
    return ParamSchema([_param_spec(k, v) for k, v in params.items()])


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: Mapping[str, Any] | None = None
) -> ModelSignature:
    """Infer a :class:`ModelSignature` from an input example, an output example and params.

    - DataFrame: one :class:`ColSpec` per column, names stringified. int64 -> long, int32 (and
      smaller) -> integer, float64 -> double, float32 -> float, bool -> boolean, strings
      (object or ``str``) -> string, bytes -> binary, datetime64 -> datetime. A column with
      nulls is optional (``required=False``) unless it is float/double (NaN is a valid value);
      an all-null object column is an optional string.
    - Series: one column spec named after the Series (unnamed if it has no name).
    - list of dicts, dict of lists, dict of scalars (one row): like the equivalent DataFrame.
    - ndarray, nested lists of numbers: one unnamed :class:`TensorSpec`, first dimension -1.
    - dict with ndarray values: one named tensor per key.
    - list of strings, a string: one unnamed string column; bytes: one binary column.
    - ``params``: see :func:`infer_param_schema`.

    Any part given as ``None`` is ``None`` in the signature. Raises :class:`InvalidSignature`
    for data no spec describes.
    """
    return ModelSignature(
        inputs=infer_schema(model_input) if model_input is not None else None,
        outputs=infer_schema(model_output) if model_output is not None else None,
        params=infer_param_schema(params) if params else None,
    )

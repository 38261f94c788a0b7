"""The :class:`~mlserve.schema._types.DataType` of one scalar value or numeric dtype: the one rule
that column, nested-value (:mod:`mlserve.schema._infer_complex`) and param inference share.

Python ``int`` and ``float`` are ``long`` and ``double``; numpy scalars keep their width
(``int32`` is ``integer``, ``float32`` is ``float``; an unsigned type becomes the smallest signed
type that holds all its values, so ``uint32`` is ``long``); strings, bytes, booleans and
datetimes are what they say.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from mlserve.schema._datatype import DataType

__all__ = ["numeric_type", "scalar_type"]


def numeric_type(kind: str, itemsize: int) -> DataType | None:
    """The DataType of a numpy/pandas dtype kind and width, or None if there is none."""
    if kind == "b":
        return DataType.boolean
    if kind == "i":
        return DataType.integer if itemsize <= 4 else DataType.long
    if kind == "u":  # unsigned: the smallest signed type holding every value (uint64 -> long)
        return DataType.integer if itemsize <= 2 else DataType.long
    if kind == "f":
        return DataType.float if itemsize <= 4 else DataType.double if itemsize == 8 else None
    if kind == "M":
        return DataType.datetime
    return None


def scalar_type(value: Any, *, dates: bool = True) -> DataType | None:
    """The DataType of one scalar value, or None when no DataType describes it.

    ``dates=False`` leaves a ``datetime.date`` (that is not a datetime) without a type: a param
    holds datetimes only, while a nested field may hold a date (MLflow reads it as a datetime).
    """
    if isinstance(value, (bool, np.bool_)):
        return DataType.boolean
    if isinstance(value, np.generic) and value.dtype.kind in "iuf":
        return numeric_type(value.dtype.kind, value.dtype.itemsize)
    if isinstance(value, int):
        return DataType.long
    if isinstance(value, float):
        return DataType.double
    if isinstance(value, str):
        return DataType.string
    if isinstance(value, (bytes, bytearray)):
        return DataType.binary
    if isinstance(value, (dt.datetime, np.datetime64)):
        return DataType.datetime
    if dates and isinstance(value, dt.date):
        return DataType.datetime
    return None

"""Name the *kind* of a value or column for error messages, never the value itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

# pandas.api.types.infer_dtype result -> the words an error message uses
_INFERRED: dict[str, str] = {
    "string": "a string",
    "bytes": "bytes",
    "integer": "an integer",
    "floating": "a float",
    "mixed-integer-float": "a float",
    "decimal": "a decimal",
    "boolean": "a boolean",
    "datetime64": "a datetime",
    "datetime": "a datetime",
    "date": "a date",
    "timedelta64": "a timedelta",
    "timedelta": "a timedelta",
    "time": "a time",
    "period": "a period",
    "complex": "a complex number",
    "categorical": "a category",
    "empty": "null",
}

_BY_DTYPE_KIND: dict[str, str] = {
    "b": "a boolean",
    "i": "an integer",
    "u": "an integer",
    "f": "a float",
    "c": "a complex number",
    "M": "a datetime",
    "m": "a timedelta",
    "U": "a string",
    "S": "bytes",
    "V": "raw structured data",
}


def value_kind(value: Any) -> str:
    """The kind of one Python or numpy value: ``"a string"``, ``"null"``, ``"a list"``, ..."""
    if value is None:
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "a boolean"
    if isinstance(value, (int, np.integer)):
        return "an integer"
    if isinstance(value, (float, np.floating)):
        if value != value:  # NaN stands for null in a float column
            return "null"
        return "a float" if float(value).is_integer() else "a non-integer float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    if isinstance(value, (dt.datetime, np.datetime64)):
        return "a datetime"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "a list"
    return f"a value of type {type(value).__name__}"


def inferred_kind(values: Any) -> str:
    """The kind of the non-null values in an object array or Series."""
    inferred = infer_dtype(values, skipna=True)
    return _INFERRED.get(inferred, "values of mixed types")


def column_kind(series: pd.Series) -> str:
    """The kind of values a column holds, judged from its dtype (inspecting object columns)."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return "a string"
    if isinstance(dtype, pd.CategoricalDtype):
        return "a category"
    if dtype == np.dtype(object):
        return inferred_kind(series)
    kind = getattr(dtype, "kind", "O")
    return _BY_DTYPE_KIND.get(kind, f"values of dtype {dtype}")

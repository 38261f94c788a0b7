"""One scalar value under a column's rule: how params convert their values.

A column's values are converted a whole array at a time (:mod:`mlserve.schema._rules`,
:mod:`mlserve.schema._columns`); a param's value comes one at a time. :func:`value_converter`
gives the one-value form of the same rules (booleans are not numbers, whole floats are
integers, integers are range-checked against the declared type, a float must fit ``float32`` to
be a ``float``, datetimes are ISO 8601 and never "now"/"today"), with the same words in its
errors.

Where a param or a nested field (a scalar inside an array, object or map column) converts
otherwise than a column, it is because MLflow does so (MLflow 3.17.2:
``mlflow.models.utils._enforce_param_datatype`` for params, its column dtype rule for nested
fields, :mod:`mlserve.schema._nested_values`); :data:`DIFFERENCES` is the one place that says
which, and ``tests/schema/test_mlflow_values.py`` holds each against real MLflow's answer.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from mlserve.schema._datatype import DataType
from mlserve.schema._kinds import value_kind

__all__ = ["DIFFERENCES", "ValueMismatch", "names_the_clock", "value_converter"]

# strings pandas' datetime parser reads as the current time
_CLOCK_WORDS = frozenset({"now", "today"})


def names_the_clock(values: Iterable[Any]) -> bool:
    """True if a value is a string pandas' datetime parser reads as the current time ("now",
    "today"): not a date a client sent, so the datetime rules refuse it (in columns, in
    params, and in the codecs, which parse datetime columns before enforcement)."""
    return any(isinstance(v, str) and v.strip().lower() in _CLOCK_WORDS for v in values)


class ValueMismatch(Exception):
    """A value that does not fit; ``found`` says what it is (the value itself never echoed)."""

    def __init__(self, found: str) -> None:
        super().__init__(found)
        self.found = found


#: Where params and nested fields convert a value otherwise than a column does, as MLflow does.
#: Each entry is (where, type) -> what differs and MLflow's behaviour it follows.
DIFFERENCES: dict[tuple[str, DataType], str] = {
    ("param", DataType.float): (
        "no float32 range check: MLflow's _enforce_param_datatype returns float(value), so "
        "1e300 reaches the model as 1e300 (a float column refuses it)"
    ),
    ("param", DataType.long): (
        "an integral float (3.0) is refused, not made 3: MLflow's _enforce_param_datatype "
        "takes only an integer for a long param (a long column converts it)"
    ),
    ("param", DataType.integer): (
        "an integral float (3.0) is refused, as for a long param (MLflow's rule)"
    ),
    ("param", DataType.datetime): (
        "a Python date or datetime, as MLflow's np.datetime64(value).item(): a date-only "
        "string is a datetime.date, a time zone is converted to UTC and dropped (a column is "
        "datetime64[ns])"
    ),
    ("param", DataType.binary): (
        "bytes only, a string is refused (not base64-decoded as in a column): MLflow cannot "
        "declare a binary param at all (ParamSpec refuses the type)"
    ),
    # nested fields: MLflow builds a pandas Series of them and requires its dtype to be the
    # declared one or a widening of it (_nested_values); a column converts the values instead
    ("nested", DataType.double): (
        "an integer fits only as 0 or 1 (MLflow takes int64 for float64 only so), unless "
        "floats beside it in an array make the Series float64 (a double column converts any)"
    ),
    ("nested", DataType.float): (
        "a JSON number is float64 or int64, wider than float32: refused, except the integers "
        "0 and 1 (a float column converts any number within float32's range)"
    ),
    ("nested", DataType.long): (
        "a float is refused, 2.0 too, and so is a null among an array's integers (pandas "
        "makes that Series float64); a long column converts whole floats"
    ),
    ("nested", DataType.integer): (
        "a JSON integer (int64) is wider than int32: refused; only numpy values of 32 bits or "
        "fewer fit (an integer column range-checks and converts)"
    ),
    ("nested", DataType.datetime): (
        "a string is refused, and in an object or a map anything but np.datetime64 (MLflow "
        "requires a numpy scalar there); an array's datetimes reach the model as integer "
        "nanoseconds (MLflow's datetime64[ns].tolist())"
    ),
    ("nested", DataType.binary): (
        "a string is not base64-decoded as in a column: MLflow keeps it as text in an "
        "object's property and a map's value, and encodes it to bytes (ASCII only) in an array"
    ),
}

_INT_RANGES = {DataType.integer: (-(2**31), 2**31 - 1), DataType.long: (-(2**63), 2**63 - 1)}


def _to_bool(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueMismatch(value_kind(value))


def _to_int(t: DataType, value: Any, whole_floats: bool = True) -> Any:
    if (
        whole_floats
        and isinstance(value, (float, np.floating))
        and math.isfinite(value)
        and value == int(value)
    ):
        value = int(value)  # 2.0 is a long, as in a column
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
        raise ValueMismatch(value_kind(value))
    low, high = _INT_RANGES[t]
    if not low <= value <= high:
        raise ValueMismatch(f"an integer out of range for {t.name}")
    return int(value)


def _to_float(t: DataType, value: Any, check_range: bool = True) -> Any:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ValueMismatch(value_kind(value))
    try:
        out = float(value)
    except OverflowError:  # a Python int past float64's range
        raise ValueMismatch(f"a number out of range for {t.name}") from None
    if check_range and t is DataType.float:
        # the cast a float column makes: a number that rounds past float32's range refused
        with np.errstate(over="raise"):
            try:
                np.float32(out)
            except FloatingPointError:
                raise ValueMismatch(f"a number out of range for {t.name}") from None
    return out


def _to_str(value: Any) -> Any:
    if isinstance(value, str):
        return str(value)
    raise ValueMismatch(value_kind(value))


def _to_bytes(value: Any, strings: str) -> Any:
    """Bytes as bytes; a string base64-decoded (``strings="base64"``, a column's rule) or
    refused (``"refuse"``, a param's)."""
    if isinstance(value, (bytes, bytearray, np.bytes_)):
        return bytes(value)
    if isinstance(value, str) and strings == "base64":
        try:
            # MLflow's client wraps base64 at 76 columns (encodebytes): newlines dropped
            return base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValueMismatch("a string that is not base64") from None
    raise ValueMismatch(value_kind(value))


def _to_timestamp(value: Any) -> pd.Timestamp:
    """A datetime value as a column's rule reads it: ISO 8601 strings (never the clock's
    "now"/"today"), datetime, date and np.datetime64 values, within the ns range."""
    if isinstance(value, str):
        if names_the_clock([value]):
            raise ValueMismatch("'now' or 'today'")
        try:
            out = pd.to_datetime(value, format="ISO8601")
        except (ValueError, TypeError, OverflowError):
            raise ValueMismatch("a string that is not an ISO 8601 datetime") from None
    elif isinstance(value, (dt.datetime, dt.date, np.datetime64)):
        try:
            out = pd.Timestamp(value)
        except (ValueError, OverflowError):
            raise ValueMismatch("a datetime pandas cannot hold") from None
    else:
        raise ValueMismatch(value_kind(value))
    if out is pd.NaT:
        raise ValueMismatch("null")
    return out


def _to_ns_timestamp(value: Any) -> pd.Timestamp:
    """:func:`_to_timestamp` in nanoseconds, the unit a datetime column has (its words too)."""
    try:
        return _to_timestamp(value).as_unit("ns")
    except (OverflowError, ValueError):  # OutOfBoundsDatetime is a ValueError
        raise ValueMismatch("a datetime outside the nanosecond range (years 1677-2262)") from None


def _to_param_datetime(value: Any) -> Any:
    """MLflow's form of a datetime param (``np.datetime64(value).item()``), checked by the
    column's rule first: a ``datetime.date`` for a date without a time, else a naive
    ``datetime.datetime`` (a time zone converted to UTC, as numpy does)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return value  # MLflow: np.datetime64(date).item() is the date itself
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[us]").item()
    ts = _to_timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    text = value.strip()
    if "T" not in text and " " not in text:
        return ts.date()  # "2024-01-02", "2024-01": numpy's day (or coarser) unit
    if ts.nanosecond:
        # numpy's nanosecond unit makes .item() an int, which MLflow refuses
        raise ValueMismatch("a datetime with nanoseconds")
    return ts.to_pydatetime()


@functools.cache
def value_converter(t: DataType, where: str = "column") -> Callable[[Any], Any]:
    """The converter of one value of type ``t`` (not null: the caller decides about nulls) for
    a ``column`` value or a ``param``; it returns the value converted or raises
    :class:`ValueMismatch`. Differences from the column's rule: :data:`DIFFERENCES` (nested
    fields have their own converters, :mod:`mlserve.schema._nested_values`)."""
    if where not in ("column", "param"):
        raise ValueError(f"where is column or param, not {where!r}")
    if t is DataType.boolean:
        return _to_bool
    if t in _INT_RANGES:
        return functools.partial(_to_int, t, whole_floats=(where, t) not in DIFFERENCES)
    if t in (DataType.float, DataType.double):
        return functools.partial(_to_float, t, check_range=(where, t) not in DIFFERENCES)
    if t is DataType.string:
        return _to_str
    if t is DataType.binary:
        return functools.partial(_to_bytes, strings="base64" if where == "column" else "refuse")
    return _to_param_datetime if where == "param" else _to_ns_timestamp

"""A scalar inside an array, object or map column, checked as MLflow checks it: by dtype.

MLflow 3.17.2 does not convert a nested scalar as it converts a column's values. It builds a
pandas Series of the scalars and applies its column *dtype* rule (``_enforce_mlflow_datatype``):
an array's items as one ``pd.Series(items)`` (``_enforce_array``), an object's property or a
map's value as a one-value Series (``_enforce_datatype``). The Series' dtype must be the declared
one or a widening of it; ``int64`` fills a ``float``/``double`` only when every value is 0 or 1.
So, where a column converts, a nested field refuses:

- an integer other than 0 or 1 for a ``double`` or ``float`` (an array mixing integers and
  floats is a float64 Series, so it fits a ``double``);
- any float, ``2.0`` included, for a ``long`` or ``integer``, and so an array of integers with a
  null (pandas makes it float64);
- a JSON number for an ``integer`` (int64 is wider than int32) or a non-integer one for a
  ``float`` (float64 is wider than float32): only numpy values of the declared width fit;
- a string for a ``datetime``; in an object or a map every ``datetime``/``date`` too (MLflow
  requires a numpy scalar there: only ``np.datetime64`` fits).

What comes out is what MLflow gives the model: an array's items as Python values
(``to_numpy(dtype).tolist()``: floats, ints, and a ``datetime`` as its integer nanoseconds since
the epoch; a string for ``binary`` encoded to bytes); an object's or a map's numbers and booleans
as numpy scalars (``np.float64``, ``np.int64``, ``np.bool_``), its strings and bytes as they are.

Where MLflow would hand the model values it made up, we refuse or keep the null instead
(a deliberate difference, docs/signatures.md section 5): a null in an array of ``boolean``
(MLflow: ``False``), ``string`` (MLflow: every string of the array cut to one character, the
null made ``"n"``) or ``binary`` (MLflow: ``b"None"``) is refused in a required column and kept
as ``None`` in an optional one. A time-zone-aware ``datetime`` is refused, as MLflow refuses it.
Every failure raises :class:`~mlserve.schema._scalar_values.ValueMismatch` naming the kind of
value found, never the value.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlserve.schema._datatype import DataType
from mlserve.schema._kinds import inferred_kind, value_kind
from mlserve.schema._scalar_values import ValueMismatch

__all__ = ["field_converter", "items_converter"]

_NUMBERS = frozenset({DataType.integer, DataType.long, DataType.float, DataType.double})
_FLOAT64: np.dtype[Any] = np.dtype("float64")
_INT64: np.dtype[Any] = np.dtype("int64")


def _widens(src: np.dtype, want: np.dtype) -> bool:
    """MLflow's ``is_upcast``: ``src`` fits ``want`` without a look at the values."""
    if src == want:
        return True
    if src.kind == want.kind:
        return src.itemsize <= want.itemsize
    if src.kind == "u" and want.kind == "i":
        return src.itemsize < want.itemsize
    # (u)int -> double only up to 6 bytes, MLflow's rule: int64 needs the 0-and-1 look
    return src.kind in "iu" and want == _FLOAT64 and src.itemsize <= 6


def _zeros_and_ones(values: Any) -> bool:
    return bool(np.isin(values, (0, 1)).all())


def _dtype_mismatch(src: np.dtype, t: DataType, has_nulls: bool) -> ValueMismatch:
    """What was found when numbers of dtype ``src`` do not fit the nested type ``t``."""
    want = t.to_numpy()
    if src.kind == "b":
        return ValueMismatch("a boolean")
    if src.kind == "f" and want.kind in "iu":
        return ValueMismatch("null" if has_nulls else "a float")
    if src.kind in "iu" and want.kind == "f":
        return ValueMismatch("an integer other than 0 or 1")
    if src.kind == want.kind or (src.kind == "u" and want.kind == "i"):
        return ValueMismatch(f"a {src.itemsize * 8}-bit number, wider than {t.name}")
    return ValueMismatch(f"values of dtype {src.name}")


# -- an array's items: one Series --------------------------------------------------------------


def _numbers(t: DataType, items: list[Any]) -> list[Any]:
    want = t.to_numpy()
    kinds = set(map(type, items))
    # the JSON cases without building a Series: its dtype is known from the Python types
    if kinds == {float} or kinds == {int, float}:
        src, values = _FLOAT64, None
    elif kinds == {int}:
        try:
            values = np.array(items, dtype=_INT64)
        except OverflowError:  # past int64: pandas makes it uint64 or object, never fits
            raise ValueMismatch(f"an integer out of range for {t.name}") from None
        src = _INT64
    else:
        series = pd.Series(items)
        if series.dtype == object:
            series = series.infer_objects()
        if t is DataType.double and series.dtype == object and series.isna().all():
            # MLflow reads an object Series for a double with pd.to_numeric (its Decimal
            # branch): nulls alone become NaN
            return [math.nan] * len(items)
        if t is DataType.double and series.dtype == object and (read := _numeric_text(series)):
            # text among numbers: an object Series, which MLflow's pd.to_numeric branch reads
            # (text alone is a pandas 3 str Series, which MLflow refuses, and so do we)
            return read

        if not isinstance(series.dtype, np.dtype) or series.dtype.kind not in "biuf":
            found = inferred_kind(series)
            if found == "an integer":  # an object Series of ints: one was past uint64
                found = f"an integer out of range for {t.name}"
            raise ValueMismatch(found)
        src, values = series.dtype, series.to_numpy()
    if _widens(src, want) or (src == _INT64 and want.kind == "f" and _zeros_and_ones(values)):
        out: list[Any] = np.asarray(items if values is None else values, dtype=want).tolist()
        return out
    raise _dtype_mismatch(src, t, any(v is None for v in items))


def _numeric_text(series: pd.Series) -> list[Any] | None:
    """An object Series for a double holding numbers written as text, read by MLflow's
    ``pd.to_numeric`` branch; ``None`` without a string, with a boolean (not a number here,
    as in a column) or with text that is not a number."""
    values = series.tolist()
    if not any(isinstance(v, str) for v in values) or not all(
        v is None or type(v) in (str, int, float) for v in values
    ):
        return None  # a boolean is not a number here, and a list or an object is no scalar
    try:
        read: list[Any] = pd.to_numeric(series, errors="raise").to_numpy(_FLOAT64).tolist()
    except (ValueError, TypeError):
        return None
    return read


def _datetimes(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in items:
        if v is None or v is pd.NaT or (isinstance(v, np.datetime64) and np.isnat(v)):
            out.append(None)  # MLflow's NaT .tolist(), in a required column too
            continue
        if not isinstance(v, (dt.datetime, dt.date, np.datetime64)):
            raise ValueMismatch(value_kind(v))  # a string too: MLflow refuses every one
        ts = pd.Timestamp(v)
        if ts.tzinfo is not None:
            raise ValueMismatch("a time-zone-aware datetime")
        try:
            out.append(ts.as_unit("ns").value)  # MLflow: datetime64[ns] .tolist(), an int
        except (OverflowError, ValueError):  # OutOfBoundsDatetime is a ValueError
            raise ValueMismatch(
                "a datetime outside the nanosecond range (years 1677-2262)"
            ) from None
    return out


def _texts(t: DataType, required: bool, items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in items:
        if v is None:
            if required:
                raise ValueMismatch("null")
            out.append(None)  # MLflow: False, b"None", or "n" (and every string cut short)
        elif t is DataType.boolean and isinstance(v, (bool, np.bool_)):
            out.append(bool(v))
        elif t is DataType.string and isinstance(v, str):
            out.append(str(v))
        elif t is DataType.binary and isinstance(v, (bytes, bytearray, np.bytes_)):
            out.append(bytes(v))
        elif t is DataType.binary and isinstance(v, str):
            try:  # MLflow: to_numpy(dtype=bytes), which encodes ASCII text and fails on other
                out.append(v.encode("ascii"))
            except UnicodeEncodeError:
                raise ValueMismatch("a string that is not ASCII text") from None
        else:
            raise ValueMismatch(value_kind(v))
    return out


@functools.cache
def items_converter(t: DataType, required: bool) -> Callable[[list[Any]], list[Any]]:
    """The converter of an ``Array(t)``'s items (a non-empty list): the list converted, or
    :class:`ValueMismatch`. ``required`` is the column's (MLflow passes it down)."""
    if t in _NUMBERS:
        return functools.partial(_numbers, t)
    if t is DataType.datetime:
        return _datetimes
    return functools.partial(_texts, t, required)


# -- an object's property or a map's value: a one-value Series -----------------------------------


def _field(t: DataType, value: Any) -> Any:
    # MLflow: a non-scalar (None, a datetime, a date, a list) never makes a one-value Series
    if not np.isscalar(value):
        raise ValueMismatch(value_kind(value))
    if isinstance(value, (bool, np.bool_)):
        if t is DataType.boolean:
            return np.bool_(value)
        raise ValueMismatch("a boolean")
    if isinstance(value, (int, float, np.integer, np.floating)):
        if t not in _NUMBERS:
            raise ValueMismatch(value_kind(value))
        if type(value) is float:  # JSON's numbers without asking numpy
            src = _FLOAT64
        elif type(value) is int and -(2**63) <= value < 2**63:
            src = _INT64
        else:
            try:
                src = np.asarray(value).dtype
            except OverflowError:
                src = np.dtype(object)
        want = t.to_numpy()
        if src.kind not in "iuf" or (src.kind == "u" and src.itemsize == 8):
            raise ValueMismatch(f"an integer out of range for {t.name}")
        if _widens(src, want) or (src == _INT64 and want.kind == "f" and value in (0, 1)):
            return want.type(value)  # MLflow's pd_series[0]: a numpy scalar
        raise _dtype_mismatch(src, t, False)
    if isinstance(value, (str, np.str_)):
        if t in (DataType.string, DataType.binary):
            return str(value)  # kept as text for a binary field too, as MLflow keeps it
        raise ValueMismatch("a string")  # a one-value Series of text: MLflow refuses it too
    if isinstance(value, (bytes, np.bytes_)) and t is DataType.binary:
        return bytes(value)
    if isinstance(value, np.datetime64) and t is DataType.datetime:
        ts = pd.Timestamp(value)
        try:
            return ts.as_unit("ns")
        except (OverflowError, ValueError):
            raise ValueMismatch(
                "a datetime outside the nanosecond range (years 1677-2262)"
            ) from None
    raise ValueMismatch(value_kind(value))


@functools.cache
def field_converter(t: DataType) -> Callable[[Any], Any]:
    """The converter of one object property's or map value's value (the caller has let an
    optional field's null through): the value converted, or :class:`ValueMismatch`."""
    general = functools.partial(_field, t)
    # the JSON cases first, decided once per type: a string, a Python float or int
    if t in (DataType.string, DataType.binary):

        def text(value: Any) -> Any:
            return value if type(value) is str else general(value)

        return text
    if t not in _NUMBERS:
        return general
    want = t.to_numpy()
    make = want.type
    floats = _widens(_FLOAT64, want)
    ints = _widens(_INT64, want)
    zero_one = want.kind == "f"

    def number(value: Any) -> Any:
        kind = type(value)
        if kind is float and floats:
            return make(value)
        if kind is int and -(2**63) <= value < 2**63 and (ints or (zero_one and value in (0, 1))):
            return make(value)
        return general(value)  # the refusal's words, and numpy values

    return number

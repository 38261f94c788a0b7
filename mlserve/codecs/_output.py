"""Predictions and errors as JSON response bodies.

``{"predictions": ...}``: numpy arrays become (nested) lists, DataFrames lists of records, a
Series returned by the model a list of one-key records (as MLflow writes it), dicts objects; numpy
scalars become numbers, datetimes ISO 8601 strings, bytes base64 strings (MLflow's
``base64.encodebytes``: a newline every 76 characters and at the end), NaN and infinities
``null``. The body is always strict JSON.

Floats narrower than float64 (float32, float16) are written as the float64 of their exact value
(``0.10000000149011612`` for float32 ``0.1``), as MLflow's server writes them: the same JSON for
the same model whichever JSON backend runs and whether the values come as an array, a column or a
scalar.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import logging
import uuid
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlserve.codecs import _json

__all__ = ["datetime_strings", "encode_error", "encode_predictions", "to_jsonable"]


# ticks per second of the datetime64 units finer than a day
_PER_SECOND = {"h": 0, "m": 0, "s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


_Unit = Literal["auto", "s", "ms", "us", "ns"]


def _datetime_unit(arr: np.ndarray, nat: np.ndarray) -> _Unit:
    """One unit for a whole datetime array, so every value of a column has the same shape.

    numpy's ``unit="auto"`` picks a unit per element (``2024-01-01`` next to
    ``2024-01-01T01:00``); we use whole seconds, as ``Timestamp.isoformat`` and MLflow do,
    and a finer unit only when some value needs it.
    """
    unit, count = np.datetime_data(arr.dtype)
    per_second = _PER_SECOND.get(unit)
    if per_second is None:  # days or coarser (one format already), or below ns (rare)
        return "auto"
    if per_second <= 1:
        return "s"
    ticks = arr.view("i8")[~nat] * count
    candidates: tuple[_Unit, ...] = ("s", "ms", "us")
    for candidate in candidates:
        step = per_second // _PER_SECOND[candidate]
        if step > 1 and not (ticks % step).any():
            return candidate
    return "ns" if unit == "ns" else "auto"


def datetime_strings(arr: np.ndarray) -> np.ndarray:
    """A datetime array as ISO 8601 strings of one unit for all its values (NaT as None): the
    V2 answer's form (``/invocations`` writes MLflow's, :func:`_isoformats`)."""
    nat = np.isnat(arr)
    out = np.datetime_as_string(arr, unit=_datetime_unit(arr, nat)).astype(object)
    out[nat] = None
    return out


def _isoformats(arr: np.ndarray, nat_as: str | None = None) -> np.ndarray:
    """Each datetime as MLflow's encoder writes it, ``isoformat()`` value by value
    (``Timestamp`` in a frame, ``datetime``/``date`` from ``ndarray.tolist()``): whole seconds
    without a fraction, else microseconds, else (a frame's nanoseconds) nanoseconds; a date unit
    as the date. Vectorised: one ``datetime_as_string`` per precision, chosen per value."""
    nat = np.isnat(arr)
    unit = np.datetime_data(arr.dtype)[0]
    if unit in ("Y", "M", "W", "D"):
        out = np.datetime_as_string(arr, unit="D").astype(object)
    else:
        fine = "ns" if unit in ("ns", "ps", "fs", "as") else "us"
        values = arr.astype(f"datetime64[{fine}]")
        per_second = 10**9 if fine == "ns" else 10**6
        part = values.view(np.int64) % per_second
        out = np.datetime_as_string(values, unit="s").astype(object)
        micro = part != 0
        if micro.any():
            out[micro] = np.datetime_as_string(values[micro], unit="us")
            if fine == "ns" and (nano := part % 1000 != 0).any():
                out[nano] = np.datetime_as_string(values[nano], unit="ns")
    out[nat] = nat_as
    return out


def _array(arr: np.ndarray) -> Any:
    """An ndarray as something both backends serialise without per-element Python code.

    Plain numeric arrays are returned as they are (orjson serialises them natively, the stdlib
    through ``tolist``); only object, datetime, timedelta and bytes arrays are walked.
    """
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype.itemsize < 8:
        # orjson would write float32's shortest repr; MLflow (tolist) writes the float64 value
        return arr.astype(np.float64)
    if kind == "M":
        if np.datetime_data(arr.dtype)[0] == "ns":
            # MLflow writes ndarray.tolist(), which gives nanosecond datetimes as integers
            # (nanoseconds since the epoch); coarser units as datetimes, written ISO 8601
            ints = arr.view(np.int64).astype(object)
            ints[np.isnat(arr)] = None
            return ints.tolist()
        return _isoformats(arr).tolist()
    if kind == "m":
        arr = arr.astype("timedelta64[us]").astype(object)  # datetime.timedelta, NaT -> None
    if kind in "mOSV":
        return (
            np.frompyfunc(_default_or_self, 1, 1)(arr).tolist()
            if arr.ndim
            else (_default_or_self(arr.item()))
        )
    return arr


def _default_or_self(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_default_or_self(v) for v in value]
    if isinstance(value, dict):
        return {_key(k): _default_or_self(v) for k, v in value.items()}
    return _default(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, np.generic):
        key = key.item()
    if isinstance(key, (dt.date, dt.time, pd.Timestamp)):
        return key.isoformat()
    return str(key)


def _frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as a list of ``{column: value}`` objects, column names as strings."""
    columns = [_key(c) for c in frame.columns]
    if len(set(columns)) != len(columns) and not _warned_duplicates:
        _warn_duplicates()
    # names that collide as strings (0 and "0", or a repeated name): the last column is the one
    # written, as a client parsing MLflow's answer (pandas' records) reads it
    cols = [_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
    return (
        [dict(zip(columns, row, strict=True)) for row in zip(*cols, strict=True)]
        if cols
        else [{}] * len(frame)
    )


_log = logging.getLogger(__name__)
_warned_duplicates = False


def _warn_duplicates() -> None:
    global _warned_duplicates
    _warned_duplicates = True
    _log.warning(
        "a prediction frame has columns whose names are the same as text (0 and '0', or a "
        "repeated name); each row is written with the last of them, as MLflow writes it "
        "(logged once)"
    )


def _column(series: pd.Series) -> list[Any]:
    """One column as a list of JSON-ready Python values (nulls as None)."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        values = series.to_numpy()
        if dtype.kind == "f":
            finite = np.isfinite(values)
            if not finite.all():
                obj = values.astype(object)
                obj[~finite] = None
                return obj.tolist()
        return values.tolist()
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        # MLflow writes a frame's records, where a missing datetime is pd.NaT: "NaT"
        return _isoformats(series.to_numpy(), "NaT").tolist()
    values = series.astype(object).tolist()
    return ["NaT" if v is pd.NaT else None if _is_null(v) else _default_or_self(v) for v in values]


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value


def to_jsonable(output: Any) -> Any:
    """Convert a model's output to the value of ``"predictions"`` (containers of plain values).

    numpy arrays are returned as arrays when the backend can take them directly.
    """
    if isinstance(output, pd.Series):
        # MLflow's server writes pd.DataFrame(series) as records: [{"0": v}, ...] for an unnamed
        # Series (statsmodels' predictions), [{name: v}, ...] for a named one. Only the model's
        # whole output: a Series inside a dict stays a list (MLflow cannot encode that at all)
        return _frame_records(output.to_frame())
    return _jsonable(output)


def _jsonable(output: Any) -> Any:
    if isinstance(output, pd.DataFrame):
        return _frame_records(output)
    if isinstance(output, pd.Series):
        return _column(output)
    if isinstance(output, pd.Index):
        return _column(output.to_series())
    if isinstance(output, np.ndarray):
        return _array(output)
    if isinstance(output, Mapping):
        return {_key(k): _jsonable(v) for k, v in output.items()}
    if isinstance(output, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in output]
    if isinstance(output, np.generic):
        # orjson would format datetimes itself (differently from the stdlib) and float32 in its
        # shortest form; _default gives both backends one answer
        return _default(output)
    return output


def _default(value: Any) -> Any:
    """Convert what neither JSON backend knows; raises ``TypeError`` for anything else."""
    if isinstance(value, np.ndarray):
        out = _array(value)
        return out.tolist() if isinstance(out, np.ndarray) else out
    if isinstance(value, (pd.DataFrame, pd.Series, pd.Index)):
        return _jsonable(value)
    if value is pd.NaT:
        return "NaT"  # MLflow's encoder writes pd.NaT.isoformat(), wherever it is
    if value is pd.NA:
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(np.datetime_as_string(value, unit="auto"))
    if isinstance(value, np.timedelta64):
        return None if np.isnat(value) else pd.Timedelta(value).isoformat()
    if isinstance(value, np.generic):
        return _default_or_self(value.item())
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return pd.Timedelta(value).isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        # MLflow's encoder: base64 with a newline after every 76 characters and at the end
        return base64.encodebytes(bytes(value)).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, complex):
        raise TypeError("complex numbers have no JSON form")
    if isinstance(value, Mapping):
        return {_key(k): _default_or_self(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot encode a {type(value).__name__} as JSON")


def encode_predictions(output: Any, *, unwrapped: bool = False) -> bytes:
    """Serialise a model's output as the ``{"predictions": ...}`` response body (UTF-8 JSON);
    with ``unwrapped=True`` (the answer to an unwrapped LLM body, as MLflow's) the bare value.

    NaN and infinities become ``null``, so strict JSON parsers always accept the body. Raises
    ``TypeError`` when the output holds a value with no JSON form (a complex number, an
    arbitrary object); the server reports that as an internal error.
    """
    value = to_jsonable(output)
    return _json.dumps(value if unwrapped else {"predictions": value}, _default)


def encode_error(error_code: str, message: str) -> bytes:
    """The JSON error body every mlserve error response uses: ``{"error_code", "message"}``."""
    return _json.dumps({"error_code": error_code, "message": message}, _default)

"""One value under a column's rule (mlserve/schema/_scalar_values.py), for each place it is
used: a column (a binary column's base64), a param (nested fields have their own rule,
test_values.py). What MLflow answers for the same values is held in test_mlflow_values.py;
this table pins every branch and every word."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlserve.schema import DataType
from mlserve.schema._scalar_values import (
    DIFFERENCES,
    ValueMismatch,
    names_the_clock,
    value_converter,
)

B, INT, L, F, D, S, BIN, T = (
    DataType.boolean,
    DataType.integer,
    DataType.long,
    DataType.float,
    DataType.double,
    DataType.string,
    DataType.binary,
    DataType.datetime,
)
ALL = ("column", "param")

# (id, type, where (None: all three), value, what comes out, its type)
CONVERTED: list[tuple[str, DataType, tuple[str, ...], Any, Any, type]] = [
    ("bool", B, ALL, True, True, bool),
    ("numpy-bool", B, ALL, np.bool_(False), False, bool),
    ("int", L, ALL, 3, 3, int),
    ("numpy-int", INT, ALL, np.int64(3), 3, int),
    ("whole-float-for-long", L, ("column",), 2.0, 2, int),
    ("numpy-whole-float", L, ("column",), np.float64(-3.0), -3, int),
    ("integer-low-edge", INT, ALL, -(2**31), -(2**31), int),
    ("integer-high-edge", INT, ALL, 2**31 - 1, 2**31 - 1, int),
    ("long-low-edge", L, ALL, -(2**63), -(2**63), int),
    ("long-high-edge", L, ALL, 2**63 - 1, 2**63 - 1, int),
    ("int-for-double", D, ALL, 1, 1.0, float),
    ("numpy-float32", D, ALL, np.float32(1.5), 1.5, float),
    ("float-edge", F, ALL, 3.4028235677973362e38, 3.4028235677973362e38, float),
    ("float-negative-edge", F, ALL, -3.4028235677973362e38, -3.4028235677973362e38, float),
    ("double-past-float32", D, ALL, 1e300, 1e300, float),
    ("float-past-float32-param", F, ("param",), 1e300, 1e300, float),
    ("infinity-for-float", F, ALL, float("inf"), float("inf"), float),
    ("string", S, ALL, "a", "a", str),
    ("bytes", BIN, ALL, b"ab", b"ab", bytes),
    ("bytearray", BIN, ALL, bytearray(b"ab"), b"ab", bytes),
    ("numpy-bytes", BIN, ALL, np.bytes_(b"ab"), b"ab", bytes),
    ("base64-column", BIN, ("column",), "YWI=", b"ab", bytes),
    ("wrapped-base64-column", BIN, ("column",), "YW\nI=\n", b"ab", bytes),
    ("iso-date", T, ("column",), "2024-01-02", pd.Timestamp("2024-01-02"), pd.Timestamp),
    (
        "date-object",
        T,
        ("column",),
        dt.date(2024, 1, 2),
        pd.Timestamp("2024-01-02"),
        pd.Timestamp,
    ),
    (
        "numpy-datetime",
        T,
        ("column",),
        np.datetime64("2024-01-02T03:04"),
        pd.Timestamp("2024-01-02T03:04"),
        pd.Timestamp,
    ),
    ("param-date-string", T, ("param",), "2024-01-02", dt.date(2024, 1, 2), dt.date),
    ("param-old-date", T, ("param",), "1500-01-02", dt.date(1500, 1, 2), dt.date),
    ("param-month-string", T, ("param",), "2024-01", dt.date(2024, 1, 1), dt.date),
    (
        "param-datetime-string",
        T,
        ("param",),
        "2024-01-02T03:04:05",
        dt.datetime(2024, 1, 2, 3, 4, 5),
        dt.datetime,
    ),
    (
        "param-space-separated",
        T,
        ("param",),
        "2024-01-02 03:04",
        dt.datetime(2024, 1, 2, 3, 4),
        dt.datetime,
    ),
    (
        "param-zone-to-utc",
        T,
        ("param",),
        "2024-01-02T03:04:05+01:00",
        dt.datetime(2024, 1, 2, 2, 4, 5),
        dt.datetime,
    ),
    (
        "param-datetime-object",
        T,
        ("param",),
        dt.datetime(2024, 1, 2, 3, 4, 5, 6),
        dt.datetime(2024, 1, 2, 3, 4, 5, 6),
        dt.datetime,
    ),
    ("param-date-object", T, ("param",), dt.date(2024, 1, 2), dt.date(2024, 1, 2), dt.date),
    (
        "param-numpy-datetime",
        T,
        ("param",),
        np.datetime64("2024-01-02T03:04:05.123456789"),
        dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
        dt.datetime,
    ),
]

REFUSED: list[tuple[str, DataType, tuple[str, ...], Any, str]] = [
    ("int-for-bool", B, ALL, 1, "an integer"),
    ("string-for-bool", B, ALL, "true", "a string"),
    ("bool-for-long", L, ALL, True, "a boolean"),
    ("numpy-bool-for-long", L, ALL, np.bool_(True), "a boolean"),
    ("fraction-for-long", L, ALL, 1.5, "a non-integer float"),
    # DIFFERENCES[param, long/integer]: MLflow takes only an integer for an integer param
    ("whole-float-for-long-param", L, ("param",), 2.0, "a float"),
    ("numpy-whole-float-param", L, ("param",), np.float64(-3.0), "a float"),
    ("whole-float-for-integer-param", INT, ("param",), 3.0, "a float"),
    ("infinity-for-long", L, ALL, float("inf"), "a non-integer float"),
    ("nan-for-long", L, ALL, float("nan"), "null"),
    ("string-for-long", L, ALL, "3", "a string"),
    ("integer-past-high", INT, ALL, 2**31, "an integer out of range for integer"),
    ("integer-past-low", INT, ALL, -(2**31) - 1, "an integer out of range for integer"),
    ("long-past-high", L, ALL, 2**63, "an integer out of range for long"),
    ("long-past-low", L, ALL, -(2**63) - 1, "an integer out of range for long"),
    ("bool-for-double", D, ALL, True, "a boolean"),
    ("numpy-bool-for-double", D, ALL, np.bool_(False), "a boolean"),
    ("string-for-double", D, ALL, "1.0", "a string"),
    ("list-for-double", D, ALL, [1.0], "a list"),
    ("int-past-float64", D, ALL, 10**400, "a number out of range for double"),
    ("float-past-float32", F, ("column",), 1e300, "a number out of range for float"),
    (
        "float-rounds-past-float32",
        F,
        ("column",),
        -3.4028235677973366e38,
        "a number out of range for float",
    ),
    ("number-for-string", S, ALL, 1, "an integer"),
    ("bytes-for-string", S, ALL, b"a", "bytes"),
    ("not-base64", BIN, ("column",), "a!", "a string that is not base64"),
    ("string-for-binary-param", BIN, ("param",), "YWI=", "a string"),
    ("number-for-binary", BIN, ALL, 1, "an integer"),
    ("now", T, ALL, " Now", "'now' or 'today'"),
    ("today", T, ALL, "today", "'now' or 'today'"),
    ("not-a-date", T, ALL, "soon", "a string that is not an ISO 8601 datetime"),
    # pandas would guess a format (month first) without format="ISO8601"
    ("us-style-date", T, ALL, "01/02/2024", "a string that is not an ISO 8601 datetime"),
    ("number-for-datetime", T, ALL, 5, "an integer"),
    (
        "before-the-ns-range",
        T,
        ("column",),
        dt.datetime(1500, 1, 1),
        "a datetime outside the nanosecond range (years 1677-2262)",
    ),
    ("numpy-nat", T, ("column",), np.datetime64("NaT"), "null"),
    (
        "param-nanoseconds",
        T,
        ("param",),
        "2024-01-02T03:04:05.000000001",
        "a datetime with nanoseconds",
    ),
]


def _cases(rows: list[tuple[Any, ...]]) -> list[Any]:
    return [
        pytest.param(t, where, *rest, id=f"{name}-{where}")
        for name, t, wheres, *rest in rows
        for where in wheres
    ]


@pytest.mark.parametrize(("t", "where", "value", "out", "kind"), _cases(CONVERTED))
def test_converted(t: DataType, where: str, value: Any, out: Any, kind: type) -> None:
    got = value_converter(t, where)(value)
    assert type(got) is kind
    assert got == out


@pytest.mark.parametrize(("t", "where", "value", "found"), _cases(REFUSED))
def test_refused(t: DataType, where: str, value: Any, found: str) -> None:
    with pytest.raises(ValueMismatch) as info:
        value_converter(t, where)(value)
    assert info.value.found == found
    assert str(info.value) == found


def test_param_datetime_objects_are_passed_on_as_they_are() -> None:
    value = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    assert value_converter(T, "param")(value) is value


def test_converters_are_built_once_and_where_is_checked() -> None:
    assert value_converter(L, "param") is value_converter(L, "param")
    assert value_converter(L, "column") is value_converter(L, "column")
    with pytest.raises(ValueError, match="column or param"):
        value_converter(L, "nested")  # nested fields: _nested_values


def test_differences_name_only_real_places_and_types() -> None:
    assert all(where in ("nested", "param") for where, _ in DIFFERENCES)
    assert all(isinstance(t, DataType) and text for (_, t), text in DIFFERENCES.items())


@pytest.mark.parametrize(
    ("values", "named"),
    [(["now"], True), ([" TODAY "], True), (["2024-01-01", 1, None], False), (["nowhere"], False)],
    ids=["now", "today-spaced", "no-clock", "word-containing-now"],
)
def test_names_the_clock(values: list[Any], named: bool) -> None:
    assert names_the_clock(values) is named

"""Values of the complex column types through SchemaEnforcer: conversions, nulls, messages.

What MLflow itself answers for one nested value is held in test_mlflow_values.py; these
tables pin the words of each refusal and the types that come out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlserve.errors import InvalidColumnValue
from mlserve.schema import (
    AnyType,
    Array,
    ColSpec,
    Map,
    Object,
    Property,
    Schema,
    SchemaEnforcer,
)


def _one(t: Any, value: Any, required: bool = True) -> Any:
    out = SchemaEnforcer(Schema([ColSpec(t, "c", required)]))(pd.DataFrame({"c": [value]}))
    return out["c"].iloc[0]


ACCEPTED = [
    # MLflow's dtype rule for nested scalars (mlserve/schema/_nested_values.py): ints fill a
    # double only as 0 and 1, unless floats make the array float64
    ("zeros-and-ones-for-doubles", Array("double"), [0, 1], [0.0, 1.0]),
    ("ints-among-floats-for-doubles", Array("double"), [2, 2.5], [2.0, 2.5]),
    ("null-among-floats-is-nan", Array("double"), [2, None], [2.0, float("nan")]),
    ("tuple-is-a-list", Array("long"), (1, 2), [1, 2]),
    # MLflow's _enforce_array gives back the container it was given
    ("ndarray-stays-an-ndarray", Array("double"), np.array([0.5, 1.5]), np.array([0.5, 1.5])),
    (
        "ndarray-of-objects-stays-an-ndarray",
        Array(Object([Property("p", "long")])),
        np.array([{"p": 1}]),
        np.array([{"p": 1}]),
    ),
    ("nan-in-double-array", Array("double"), [float("nan")], [float("nan")]),
    ("float32-for-float", Array("float"), [np.float32(1.5)], [1.5]),
    ("int32-for-integer", Array("integer"), [np.int32(7)], [7]),
    # an array's datetimes come out as MLflow's datetime64[ns].tolist(): integer nanoseconds
    ("date-for-datetime", Array("datetime"), [dt.date(2024, 1, 2)], [1704153600000000000]),
    (
        "null-among-datetimes",
        Array("datetime"),
        [dt.date(2024, 1, 2), None],
        [1704153600000000000, None],
    ),
    ("string-for-binary-array", Array("binary"), ["aGk="], [b"aGk="]),
    # an object's numbers are numpy scalars, as MLflow's one-value Series gives them
    (
        "numpy-scalars",
        Object([Property("k", "long"), Property("f", "double")]),
        {"k": np.int32(3), "f": np.float32(0.5)},
        {"k": np.int64(3), "f": np.float64(0.5)},
    ),
    ("one-for-float-property", Object([Property("f", "float")]), {"f": 1}, {"f": np.float32(1)}),
    ("string-for-binary-property", Object([Property("b", "binary")]), {"b": "aGk="}, {"b": "aGk="}),
    (
        "numpy-datetime-in-map",
        Map("datetime"),
        {"t": np.datetime64("2024-01-02")},
        {"t": pd.Timestamp("2024-01-02")},
    ),
    ("any-takes-anything", AnyType(), {"x": [1, None]}, {"x": [1, None]}),
    ("array-of-any-takes-null", Array(AnyType()), None, None),
    ("map-of-any-takes-empty", Map(AnyType()), {}, {}),
]


@pytest.mark.parametrize(
    ("t", "value", "expected"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED]
)
def test_accepted(t: Any, value: Any, expected: Any) -> None:
    got = _one(t, value)
    if isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
        return
    if isinstance(expected, list) and expected and isinstance(expected[0], float):
        np.testing.assert_array_equal(got, expected)
    else:
        assert got == expected
    assert type(got) is type(expected)
    if isinstance(expected, list):
        assert [type(v) for v in got] == [type(v) for v in expected]
    elif isinstance(expected, dict):
        assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in expected.items()}


def test_optional_column_lets_its_items_be_null() -> None:
    # MLflow hands the column's "required" down to map values; among an array's booleans,
    # strings and datetimes a null is kept in an optional column (MLflow makes one up)
    assert _one(Map("long"), {"a": None}, required=False) == {"a": None}
    assert _one(Array("boolean"), [True, None], required=False) == [True, None]
    assert _one(Array("string"), ["a", None], required=False) == ["a", None]
    with pytest.raises(InvalidColumnValue, match="found null"):
        _one(Array("boolean"), [True, None])
    with pytest.raises(InvalidColumnValue, match="found null"):
        _one(Map("long"), {"a": None})
    # among integers a null makes pandas' float64, which MLflow refuses for a long
    with pytest.raises(InvalidColumnValue, match="found null"):
        _one(Array("long"), [1, None], required=False)


REFUSED = [
    (
        "int-for-double",
        Array("double"),
        [2],
        "expected Array(double), found an integer other than 0 or 1",
    ),
    ("negative-int-for-double", Array("double"), [-3], "found an integer other than 0 or 1"),
    (
        "int-for-double-property",
        Object([Property("p", "double")]),
        {"p": 2},
        "expected double at p, found an integer other than 0 or 1",
    ),
    ("int-for-double-in-map", Map("double"), {"k": -3}, "found an integer other than 0 or 1"),
    ("whole-float-for-long", Array("long"), [2.0], "expected Array(long), found a float"),
    ("whole-float-for-long-in-map", Map("long"), {"k": 2.0}, "found a float"),
    ("fraction-for-long", Array("long"), [1.5], "expected Array(long), found a float"),
    ("json-int-for-integer", Array("integer"), [2], "found a 64-bit number, wider than integer"),
    ("json-number-for-float", Array("float"), [1.5], "found a 64-bit number, wider than float"),
    ("float-past-float32", Array("float"), [1e300], "found a 64-bit number, wider than float"),
    ("long-out-of-range", Array("long"), [2**64], "found an integer out of range for long"),
    ("iso-string-for-datetime", Array("datetime"), ["2024-01-02"], "found a string"),
    ("now-for-datetime", Array("datetime"), ["now"], "found a string"),
    (
        "datetime-for-datetime-property",
        Object([Property("t", "datetime")]),
        {"t": dt.datetime(2024, 1, 2)},
        "expected datetime at t, found a datetime",
    ),
    (
        "aware-datetime-in-array",
        Array("datetime"),
        [pd.Timestamp("2024-01-02", tz="UTC")],
        "found a time-zone-aware datetime",
    ),
    ("non-ascii-for-binary-array", Array("binary"), ["\u00e9"], "a string that is not ASCII"),
    ("int-map-key", Map("long"), {1: 2}, "a key that is not a string"),
    (
        "deep-path",
        Object([Property("a", Array(Map("long")))]),
        {"a": [{"x": 1}, {"y": "z"}]},
        "expected long at a[1]['y'], found a string",
    ),
    ("number-for-string", Array("string"), [1], "expected Array(string), found an integer"),
]


@pytest.mark.parametrize(
    ("t", "value", "fragment"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_refused(t: Any, value: Any, fragment: str) -> None:
    with pytest.raises(InvalidColumnValue) as info:
        _one(t, value)
    assert fragment in info.value.message
    assert info.value.column == "c"
    assert info.value.error_code == "BAD_REQUEST"


def test_message_never_echoes_the_value() -> None:
    with pytest.raises(InvalidColumnValue) as info:
        _one(Object([Property("a", "long")]), {"a": 1, "SECRET-KEY-7f": "SECRET-VALUE-7f"})
    assert "SECRET" not in info.value.message
    assert "an unknown property" in info.value.message


def test_a_dict_is_one_row_when_a_column_is_an_array_or_object() -> None:
    schema = Schema([ColSpec(Array("string"), "tags"), ColSpec("double", "x")])
    out = SchemaEnforcer(schema)({"tags": ["a", "b"], "x": 1})
    assert out.shape == (1, 2)
    assert out["tags"].iloc[0] == ["a", "b"]


def test_scalar_columns_next_to_complex_ones_keep_their_fast_rules() -> None:
    schema = Schema([ColSpec(Array("long"), "ids"), ColSpec("double", "x")])
    out = SchemaEnforcer(schema)(pd.DataFrame({"ids": [[1], []], "x": [1, 2]}))
    assert out["x"].dtype == np.float64
    assert out["ids"].dtype == object

"""Values of the complex column types through SchemaEnforcer: conversions, nulls, messages.

What MLflow itself accepts and refuses is held in test_mlflow_signatures.py; this table adds
the rules MLflow leaves unsaid and the ones where mlserve differs on purpose.
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
    # an int for a double is fine, as for columns (MLflow accepts only 0 and 1 here)
    ("ints-for-doubles", Array("double"), [1, 2], [1.0, 2.0]),
    ("whole-float-for-long", Array("long"), [2.0], [2]),
    ("tuple-is-a-list", Array("long"), (1, 2), [1, 2]),
    ("ndarray-is-a-list", Array("double"), np.array([0.5, 1.5]), [0.5, 1.5]),
    ("nan-in-double-array", Array("double"), [float("nan")], [float("nan")]),
    (
        "iso-string-for-datetime",
        Array("datetime"),
        ["2024-01-02T03:04:05"],
        [pd.Timestamp("2024-01-02T03:04:05")],
    ),
    ("date-for-datetime", Array("datetime"), [dt.date(2024, 1, 2)], [pd.Timestamp("2024-01-02")]),
    (
        "numpy-scalars",
        Object([Property("k", "long"), Property("f", "float")]),
        {"k": np.int32(3), "f": np.float64(0.5)},
        {"k": 3, "f": 0.5},
    ),
    ("string-for-binary", Array("binary"), ["aGk="], ["aGk="]),
    ("any-takes-anything", AnyType(), {"x": [1, None]}, {"x": [1, None]}),
    ("array-of-any-takes-null", Array(AnyType()), None, None),
    ("map-of-any-takes-empty", Map(AnyType()), {}, {}),
]


@pytest.mark.parametrize(
    ("t", "value", "expected"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED]
)
def test_accepted(t: Any, value: Any, expected: Any) -> None:
    got = _one(t, value)
    if isinstance(expected, list) and expected and isinstance(expected[0], float):
        np.testing.assert_array_equal(got, expected)
    else:
        assert got == expected
    assert type(got) is type(expected)


def test_optional_column_lets_its_items_be_null() -> None:
    # MLflow hands the column's "required" down to array items and map values
    assert _one(Array("long"), [1, None], required=False) == [1, None]
    assert _one(Map("long"), {"a": None}, required=False) == {"a": None}
    with pytest.raises(InvalidColumnValue, match="found null"):
        _one(Array("long"), [1, None])


REFUSED = [
    ("fraction-for-long", Array("long"), [1.5], "expected long at [0], found a non-integer float"),
    # the column's words for the same mistake (_scalar_values: one rule for both)
    (
        "long-out-of-range",
        Array("integer"),
        [2**40],
        "expected integer at [0], found an integer out of range for integer",
    ),
    (
        "float32-overflow",
        Array("float"),
        [1e300],
        "expected float at [0], found a number out of range for float",
    ),
    ("now-for-datetime", Array("datetime"), ["now"], "at [0], found 'now' or 'today'"),
    ("not-a-date", Array("datetime"), ["soon"], "expected datetime at [0], found a string"),
    ("int-map-key", Map("long"), {1: 2}, "a key that is not a string"),
    (
        "deep-path",
        Object([Property("a", Array(Map("long")))]),
        {"a": [{"x": 1}, {"y": "z"}]},
        "expected long at a[1]['y'], found a string",
    ),
    ("number-for-string", Array("string"), [1], "expected string at [0], found an integer"),
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

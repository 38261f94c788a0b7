"""enforce_params: defaults, conversions, and every rejection."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from mlserve.errors import InvalidParams
from mlserve.schema import ParamSchema, ParamSpec, enforce_params

SCHEMA = ParamSchema(
    [
        ParamSpec("k", "double", 1.0),
        ParamSpec("n", "long", 3),
        ParamSpec("i", "integer", 1),
        ParamSpec("flag", "boolean", False),
        ParamSpec("s", "string", "x"),
        ParamSpec("ids", "long", [1], shape=(-1,)),
        ParamSpec("when", "datetime", None),
        ParamSpec("raw", "binary", b"\x00"),
    ]
)
DEFAULTS = {p.name: p.default for p in SCHEMA.params}

ACCEPTED = [
    ("int-for-double", {"k": 2}, "k", 2.0),
    ("numpy-float", {"k": np.float32(0.5)}, "k", 0.5),
    ("numpy-int", {"n": np.int64(5)}, "n", 5),
    ("bool", {"flag": True}, "flag", True),
    ("string", {"s": "y"}, "s", "y"),
    ("list", {"ids": [1, 2, 3]}, "ids", [1, 2, 3]),
    ("tuple", {"ids": (4,)}, "ids", [4]),
    ("ndarray", {"ids": np.array([5, 6])}, "ids", [5, 6]),
    ("iso-datetime", {"when": "2024-01-02T03:04:05"}, "when", dt.datetime(2024, 1, 2, 3, 4, 5)),
    ("datetime", {"when": dt.datetime(2024, 1, 2)}, "when", dt.datetime(2024, 1, 2)),
    ("bytes", {"raw": b"ab"}, "raw", b"ab"),
    ("none-means-default", {"k": None}, "k", 1.0),
]


@pytest.mark.parametrize(
    ("params", "key", "value"),
    [row[1:] for row in ACCEPTED],
    ids=[row[0] for row in ACCEPTED],
)
def test_accepted(params, key, value):
    out = enforce_params(params, SCHEMA)
    assert out[key] == value
    assert type(out[key]) is type(value)
    assert set(out) == set(DEFAULTS)


def test_defaults_filled():
    assert enforce_params(None, SCHEMA) == DEFAULTS
    assert enforce_params({}, SCHEMA) == DEFAULTS


REJECTED = [
    ("string-for-double", {"k": "abc"}, "param 'k' expects double, found a string"),
    ("bool-for-double", {"k": True}, "param 'k' expects double, found a boolean"),
    ("non-integer-for-long", {"n": 1.5}, "param 'n' expects long, found a non-integer float"),
    # MLflow's _enforce_param_datatype takes only an integer (a long column converts 4.0)
    ("integral-float-for-long", {"n": 4.0}, "param 'n' expects long, found a float"),
    (
        "out-of-range-integer",
        {"i": 2**40},
        "param 'i' expects integer, found an integer out of range for integer",
    ),
    ("int-for-bool", {"flag": 1}, "param 'flag' expects boolean, found an integer"),
    ("int-for-string", {"s": 1}, "param 's' expects string, found an integer"),
    ("scalar-for-list", {"ids": 1}, "param 'ids' expects a list of long, found an integer"),
    (
        "bad-element",
        {"ids": [1, "x"]},
        "param 'ids' expects a list of long, found a list containing a string",
    ),
    (
        "2-d",
        {"ids": np.ones((2, 2))},
        "param 'ids' expects a list of long, found an array of 2 dimensions",
    ),
    ("list-for-scalar", {"k": [1.0]}, "param 'k' expects double, found a list"),
    (
        "bad-datetime",
        {"when": "soon"},
        "param 'when' expects datetime, found a string that is not an ISO 8601 datetime",
    ),
    (
        "unknown",
        {"nope": 1, "k": 1},
        "unknown params 'nope'; known params: 'flag', 'i', 'ids', 'k', 'n', 'raw', 's', 'when'",
    ),
]


@pytest.mark.parametrize(
    ("params", "reason"),
    [row[1:] for row in REJECTED],
    ids=[row[0] for row in REJECTED],
)
def test_rejected(params, reason):
    with pytest.raises(InvalidParams) as info:
        enforce_params(params, SCHEMA)
    assert info.value.reason == reason
    assert str(info.value) == f"Invalid params: {reason}"


def test_no_param_schema():
    assert enforce_params(None, None) == {}
    assert enforce_params({}, None) == {}
    with pytest.raises(InvalidParams) as info:
        enforce_params({"k": 1}, None)
    assert info.value.reason == "this model declares no params, so none may be passed"


def test_params_must_be_a_mapping():
    with pytest.raises(InvalidParams) as info:
        enforce_params([1], SCHEMA)  # type: ignore[arg-type]
    assert info.value.reason == "params must be an object, found a list"


def test_input_dict_is_not_modified():
    params = {"k": 2}
    enforce_params(params, SCHEMA)
    assert params == {"k": 2}


def test_a_list_default_is_a_fresh_copy_each_call() -> None:
    schema = ParamSchema([ParamSpec("ids", "long", [1, 2], shape=(-1,))])
    given = enforce_params(None, schema)
    given["ids"].append(99)  # a model changing what it was given
    assert enforce_params(None, schema) == {"ids": [1, 2]}
    assert schema.params[0].default == [1, 2]

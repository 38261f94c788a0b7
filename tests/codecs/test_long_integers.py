"""Integers past 64 bits in a JSON body: orjson (the fast backend) reads them as floats, where
MLflow's json.loads keeps them ints. Where MLflow hands them to the model as they are (no
signature) or as their text (a str tensor), every digit must arrive, whichever backend runs."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from _codec_support import json_backend  # noqa: F401 (a fixture)

from mlserve.codecs import RequestDecoder
from mlserve.codecs import _json as json_codec
from mlserve.codecs._json_casts import refloat
from mlserve.schema import AnyType, ColSpec, Schema, TensorSpec

JSON = "application/json"
BIG = [2**64, -(2**63) - 1, 10**30]


def _decode(schema: Schema | None, doc: Any) -> Any:
    return RequestDecoder(schema, None).decode(json.dumps(doc).encode(), JSON).data


@pytest.mark.usefixtures("json_backend")
@pytest.mark.parametrize(
    ("doc", "get"),
    [
        pytest.param({"inputs": BIG}, lambda d: d.tolist(), id="array"),
        pytest.param({"inputs": [[1.5, *BIG]]}, lambda d: d.tolist()[0][1:], id="among-floats"),
        pytest.param({"inputs": {"a": BIG}}, lambda d: d["a"].tolist(), id="named"),
        pytest.param(
            {"inputs": [{"a": v} for v in BIG]}, lambda d: [r["a"].item() for r in d], id="rows"
        ),
    ],
)
def test_without_a_signature_every_digit_reaches_the_model(doc: Any, get: Any) -> None:
    got = get(_decode(None, doc))
    assert got == BIG and all(type(v) is int for v in got)


@pytest.mark.usefixtures("json_backend")
def test_a_str_tensor_gets_every_digit_as_text() -> None:
    got = _decode(Schema([TensorSpec(np.dtype(str), (-1, 3))]), {"inputs": [BIG]})
    assert got.tolist() == [[str(v) for v in BIG]]


def test_the_text_scan_looks_at_integer_literals_only() -> None:
    # a fraction's long run of digits is not an integer (a body of small floats keeps orjson)
    assert not json_codec._may_hold_a_long_integer(b'{"inputs": [0.0072113596587564995, 1e19]}')
    for body in (
        b'{"a": [1,18446744073709551616]}',
        b'{"a":-9223372036854775809}',
        b"[\n 1234567890123456789]",
    ):
        assert json_codec._may_hold_a_long_integer(body), body


@pytest.mark.usefixtures("json_backend")
def test_small_floats_and_infinities_stay_what_they_are() -> None:
    got = _decode(None, {"inputs": [0.0072113596587564995, 1e300, float("inf")]})
    assert got.dtype == np.float64 and got.tolist() == [0.0072113596587564995, 1e300, float("inf")]


TEXT_AND_ANY = Schema([ColSpec("string", "s"), ColSpec(AnyType(), "z", required=False)])


@pytest.mark.usefixtures("json_backend")
@pytest.mark.parametrize(
    ("doc", "want"),
    [
        # a string column's value as sent (a frame's shapes), or its text (inputs/instances)
        pytest.param({"dataframe_records": [{"s": v} for v in BIG]}, BIG, id="records"),
        pytest.param(
            {"dataframe_split": {"columns": ["s"], "data": [[v] for v in BIG]}}, BIG, id="split"
        ),
        pytest.param({"inputs": {"s": BIG}}, [str(v) for v in BIG], id="inputs-text"),
        pytest.param({"instances": [{"s": v} for v in BIG]}, [str(v) for v in BIG], id="rows"),
    ],
)
def test_a_string_column_gets_every_digit(doc: Any, want: list[Any]) -> None:
    got = list(_decode(TEXT_AND_ANY, doc)["s"])
    assert got == want and [type(v) for v in got] == [type(v) for v in want]


@pytest.mark.usefixtures("json_backend")
def test_an_any_column_gets_every_digit() -> None:
    got = list(_decode(TEXT_AND_ANY, {"dataframe_records": [{"s": "a", "z": v} for v in BIG]})["z"])
    assert got == BIG and all(type(v) is int for v in got)


@pytest.mark.usefixtures("json_backend")
def test_floats_sent_as_floats_stay_floats_in_a_string_column() -> None:
    # 1e20 written as a float is a float for MLflow too; the second parse must not change it
    doc = {"dataframe_records": [{"s": 1e20}, {"s": "x"}, {"s": 1.5}]}
    got = list(_decode(TEXT_AND_ANY, doc)["s"])
    assert got == [1e20, "x", 1.5] and type(got[0]) is float


@pytest.mark.parametrize(
    ("values", "want"),
    [
        pytest.param([1.5, 2.0**63 - 1024], False, id="floats-below"),
        pytest.param([1, 2.0**63], True, id="float-at-the-bound"),
        pytest.param([1.5, -(2.0**63)], True, id="negative-bound"),
        pytest.param([float("nan"), 1e30], True, id="after-a-nan"),
        pytest.param([[1.0, 2.0], [3.0, 4.0]], False, id="vectors"),
        pytest.param([[1.0, 2.0], [3.0, 1e19]], True, id="vector-holding-one"),
        pytest.param([[1.0], [2.0, 1e19]], True, id="ragged-vectors"),
        pytest.param([[{"a": 1e19}]], True, id="object-in-a-vector"),
        pytest.param([[{"a": 1.5}], [None]], False, id="objects-and-nulls"),
        pytest.param(["a", 2**64, None, True], False, id="no-float-at-all"),
        pytest.param({"k": [1.5, 1e20]}, True, id="object-of-lists"),
    ],
)
def test_refloat_finds_every_float_an_integer_past_64_bits_may_have_become(
    values: Any, want: bool
) -> None:
    # a column's values as orjson gives them: the scan runs on numbers and nested lists at
    # numpy's speed, and must still look inside ragged lists and objects
    previous = json_codec.set_backend("orjson")
    try:
        assert refloat(values) is want
        json_codec.set_backend("stdlib")  # the standard library keeps integers: nothing to find
        assert refloat(values) is False
    finally:
        json_codec.set_backend(previous)

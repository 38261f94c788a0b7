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
from mlserve.schema import Schema, TensorSpec

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

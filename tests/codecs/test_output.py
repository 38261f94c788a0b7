"""Predictions -> JSON: every output type, and strict JSON even with NaN / infinities."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _codec_support import json_backend  # noqa: F401 (a fixture)

from mlserve.codecs import encode_error, encode_predictions


def strict_loads(body: bytes) -> Any:
    """Parse as a strict JSON parser would: NaN / Infinity literals are errors."""

    def reject(token: str) -> Any:
        raise ValueError(f"non-standard JSON constant {token}")

    return json.loads(body.decode("utf-8"), parse_constant=reject)


TS = pd.Timestamp("2024-01-02T03:04:05")

OUTPUTS = [
    pytest.param(np.array([0, 1, 1]), [0, 1, 1], id="int-array"),
    pytest.param(
        np.array([0.5, np.nan, np.inf, -np.inf]), [0.5, None, None, None], id="float-nan-inf"
    ),
    pytest.param(np.array([[1.5, 2.5]], dtype="float32"), [[1.5, 2.5]], id="float32-2d"),
    pytest.param(np.array([[1, 2], [3, 4]])[:, 0], [1, 3], id="non-contiguous"),
    pytest.param(np.array([True, False]), [True, False], id="bool-array"),
    pytest.param(np.array(["a", "b"]), ["a", "b"], id="str-array"),
    # MLflow's base64.encodebytes: a newline at the end and after every 76 characters
    pytest.param(np.array([b"hi"], dtype=object), ["aGk=\n"], id="bytes-object-array"),
    pytest.param(np.array([b"hi"]), ["aGk=\n"], id="bytes-array"),
    pytest.param(
        [b"x" * 60],
        ["eHh4" * 19 + "\n" + "eHh4" * 1 + "\n"],
        id="bytes-past-76-characters",
    ),
    pytest.param(
        np.array(["2024-01-02T03:04:05", "NaT"], dtype="datetime64[s]"),
        ["2024-01-02T03:04:05", None],
        id="datetime64-array",
    ),
    pytest.param(
        # numpy's unit="auto" wrote midnight as a bare date next to "2024-01-01T01:00"
        pd.DataFrame({"t": pd.date_range("2024-01-01", periods=2, freq="h")}),
        [{"t": "2024-01-01T00:00:00"}, {"t": "2024-01-01T01:00:00"}],
        id="datetime-column-one-format",
    ),
    pytest.param(
        # MLflow's ndarray.tolist(): datetimes, each written by isoformat()
        np.array(["2024-01-01T00:00:00", "2024-01-01T00:00:00.5", "NaT"], dtype="datetime64[ms]"),
        ["2024-01-01T00:00:00", "2024-01-01T00:00:00.500000", None],
        id="datetime-isoformat-per-value",
    ),
    pytest.param(
        # ... which gives nanosecond datetimes as integers (nanoseconds since the epoch)
        np.array(["2024-01-01T00:00:00.5", "NaT"], dtype="datetime64[ns]"),
        [1704067200500000000, None],
        id="datetime-ns-array-as-integers",
    ),
    pytest.param(
        # a frame's Timestamps: isoformat() each, nanoseconds when they are there; NaT "NaT"
        pd.DataFrame(
            {
                "t": pd.to_datetime(
                    ["2024-01-01", "2024-01-01T00:00:00.000000001", None], format="ISO8601"
                )
            }
        ),
        [{"t": "2024-01-01T00:00:00"}, {"t": "2024-01-01T00:00:00.000000001"}, {"t": "NaT"}],
        id="datetime-frame-isoformat-per-value",
    ),
    pytest.param(
        {"t": [pd.Timestamp("2024-01-01T00:00:00.5"), pd.NaT]},
        {"t": ["2024-01-01T00:00:00.500000", "NaT"]},
        id="timestamps-and-nat-in-a-dict",
    ),
    pytest.param(
        np.array(["2024-01-01", "NaT"], dtype="datetime64[D]"),
        ["2024-01-01", None],
        id="date-array",
    ),
    pytest.param(np.array([1, None, "x"], dtype=object), [1, None, "x"], id="object-array"),
    pytest.param(
        pd.DataFrame({"a": [1.0, np.nan], "b": ["x", None], 0: [1, 2]}),
        [{"a": 1.0, "b": "x", "0": 1}, {"a": None, "b": None, "0": 2}],
        id="frame-records",
    ),
    pytest.param(
        pd.DataFrame({"t": [TS, pd.NaT], "n": pd.array([1, None], dtype="Int64")}),
        # a frame's missing datetime is MLflow's "NaT" (pd.NaT.isoformat() in its records)
        [{"t": "2024-01-02T03:04:05", "n": 1}, {"t": "NaT", "n": None}],
        id="frame-datetime-and-nullable-int",
    ),
    # a Series as the whole output is written as MLflow writes pd.DataFrame(series): records
    pytest.param(pd.Series([1.5, np.nan], name="p"), [{"p": 1.5}, {"p": None}], id="series"),
    pytest.param(pd.Series(["x", "y"], dtype="str"), [{"0": "x"}, {"0": "y"}], id="str-series"),
    pytest.param({"s": pd.Series([1, 2], name="p")}, {"s": [1, 2]}, id="series-in-dict"),
    # narrower floats: the float64 of the exact value, as MLflow's tolist() writes them
    pytest.param(np.array([0.1], dtype="float32"), [0.10000000149011612], id="float32-exact"),
    pytest.param(np.float32(0.1), 0.10000000149011612, id="float32-scalar"),
    pytest.param([np.float32(0.1)], [0.10000000149011612], id="float32-in-list"),
    pytest.param(
        pd.DataFrame({"y": np.array([0.1], dtype="float32")}),
        [{"y": 0.10000000149011612}],
        id="float32-column",
    ),
    pytest.param(np.array([0.1], dtype="float16"), [0.0999755859375], id="float16"),
    pytest.param(
        {"probs": np.array([[0.1, 0.9]]), "label": np.int64(1), 3: "k"},
        {"probs": [[0.1, 0.9]], "label": 1, "3": "k"},
        id="dict-of-arrays",
    ),
    pytest.param([np.float32(0.5), np.int8(3), float("nan")], [0.5, 3, None], id="list-of-scalars"),
    pytest.param(np.float64(float("inf")), None, id="inf-scalar"),
    pytest.param(np.bool_(True), True, id="numpy-bool"),
    pytest.param("text", "text", id="string"),
    pytest.param(None, None, id="none"),
    pytest.param(dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05", id="datetime"),
    pytest.param(dt.date(2024, 1, 2), "2024-01-02", id="date"),
    pytest.param(TS, "2024-01-02T03:04:05", id="timestamp"),
    pytest.param(np.datetime64("2024-01-02"), "2024-01-02", id="datetime64-scalar"),
    pytest.param(dt.timedelta(seconds=90), "P0DT0H1M30S", id="timedelta"),
    pytest.param(b"\x00\xff", "AP8=\n", id="bytes"),
    pytest.param(decimal.Decimal("1.25"), 1.25, id="decimal"),
    pytest.param(uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001", id="uuid"),
    pytest.param("lone \ud800 surrogate", "lone \ud800 surrogate", id="lone-surrogate"),
    pytest.param(
        [[1, float("nan")], {"x": float("-inf")}], [[1, None], {"x": None}], id="nested-nan"
    ),
]


@pytest.mark.usefixtures("json_backend")
@pytest.mark.parametrize(("output", "expected"), OUTPUTS)
def test_encode_predictions(output: Any, expected: Any) -> None:
    body = encode_predictions(output)
    assert isinstance(body, bytes)
    assert strict_loads(body) == {"predictions": expected}


@pytest.mark.usefixtures("json_backend")
def test_unencodable_output_raises_type_error() -> None:
    with pytest.raises(TypeError):
        encode_predictions(np.array([1 + 2j]))
    with pytest.raises(TypeError):
        encode_predictions(object())


@pytest.mark.usefixtures("json_backend")
def test_encode_error() -> None:
    body = encode_error("BAD_REQUEST", 'bad "thing"')
    assert strict_loads(body) == {"error_code": "BAD_REQUEST", "message": 'bad "thing"'}


def test_seed_model_predictions(seed_model, seed_data) -> None:
    preds = seed_model.predict(seed_data[0][:5])
    assert strict_loads(encode_predictions(preds)) == {"predictions": preds.tolist()}
    proba = seed_model.predict_proba(seed_data[0][:2])
    assert strict_loads(encode_predictions(proba))["predictions"] == proba.tolist()


def test_unwrapped_predictions_are_the_bare_value() -> None:
    # MLflow's answer to an unwrapped LLM body: no {"predictions": ...} around it
    assert json.loads(encode_predictions({"a": np.arange(2)}, unwrapped=True)) == {"a": [0, 1]}
    assert json.loads(encode_predictions(pd.Series([1.5]), unwrapped=True)) == [{"0": 1.5}]


@pytest.mark.usefixtures("json_backend")
def test_columns_named_alike_as_text_keep_the_last() -> None:
    # MLflow writes pandas' records with both keys; a client's JSON parser keeps the last one
    frame = pd.DataFrame([[1, 2], [3, 4]], columns=[0, "0"])
    assert json.loads(encode_predictions(frame)) == {"predictions": [{"0": 2}, {"0": 4}]}

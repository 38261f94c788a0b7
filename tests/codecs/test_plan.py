"""What the decoding plan makes of signatures MLflow writes: integer column names, complex
(array/object/map/any) columns and datetimes, through every request shape that carries columns.

Each expectation was checked against ``mlflow models serve --env-manager local`` (MLflow 3.17.2)
on the same signature; the deliberate differences are named where they occur.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _codec_support import json_backend  # noqa: F401 (a fixture)

from mlserve.codecs import RequestDecoder
from mlserve.codecs._plan import build_plan
from mlserve.errors import InvalidColumnValue, SchemaMismatch
from mlserve.schema import AnyType, Array, ColSpec, Map, Object, Property, Schema

JSON = "application/json"
CSV = "text/csv"
INT_NAMED = Schema([ColSpec("double", i) for i in range(4)])
ROWS = [[0.1, -0.2, 0.3, -0.4], [0.5, 0.6, -0.7, 0.8]]
MESSAGE = Object([Property("role", "string"), Property("content", "string", required=False)])
CHAT = Schema(
    [
        ColSpec(Array(MESSAGE), "messages"),
        ColSpec("double", "temperature", required=False),
        ColSpec(Map("long"), "counts", required=False),
        ColSpec(AnyType(), "extra", required=False),
    ]
)


def _j(doc: Any) -> bytes:
    return json.dumps(doc).encode()


INT_BODIES = [
    ("split-int-columns", JSON, _j({"dataframe_split": {"columns": [0, 1, 2, 3], "data": ROWS}})),
    ("split-no-columns", JSON, _j({"dataframe_split": {"data": ROWS}})),
    ("inputs-rows", JSON, _j({"inputs": ROWS})),
    ("instances-rows", JSON, _j({"instances": ROWS})),
    ("records-rows", JSON, _j({"dataframe_records": ROWS})),
]
# MLflow refuses these ("missing inputs [0, 1, 2, 3]"): a CSV header and a JSON key are strings,
# and "0" is not 0 (names match by value and type, as pandas matches them)
STRING_LABEL_BODIES = [
    (
        "records-string-keys",
        JSON,
        _j({"dataframe_records": [dict(zip("0123", r, strict=True)) for r in ROWS]}),
    ),
    ("inputs-object", JSON, _j({"inputs": {str(i): [r[i] for r in ROWS] for i in range(4)}})),
    (
        "split-string-columns",
        JSON,
        _j({"dataframe_split": {"columns": list("0123"), "data": ROWS}}),
    ),
    ("csv-header", CSV, b"0,1,2,3\n0.1,-0.2,0.3,-0.4\n0.5,0.6,-0.7,0.8\n"),
]


@pytest.mark.usefixtures("json_backend")
@pytest.mark.parametrize(
    ("content_type", "body"), [b[1:] for b in INT_BODIES], ids=[b[0] for b in INT_BODIES]
)
def test_integer_named_signature_gets_the_frame_mlflow_builds(content_type, body) -> None:
    frame = RequestDecoder(INT_NAMED).decode(body, content_type).data
    assert frame.columns.tolist() == [0, 1, 2, 3]
    assert all(type(c) is int for c in frame.columns.tolist())
    assert frame.dtypes.tolist() == [np.dtype("float64")] * 4
    np.testing.assert_array_equal(frame.to_numpy(), ROWS)


@pytest.mark.usefixtures("json_backend")
@pytest.mark.parametrize(
    ("content_type", "body"),
    [b[1:] for b in STRING_LABEL_BODIES],
    ids=[b[0] for b in STRING_LABEL_BODIES],
)
def test_string_labels_miss_an_integer_named_signature_as_in_mlflow(content_type, body) -> None:
    with pytest.raises(SchemaMismatch) as info:
        RequestDecoder(INT_NAMED).decode(body, content_type)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "'0', '1', '2', '3'" in info.value.message


def test_plan_keys_integer_names_by_value_and_type() -> None:
    plan = build_plan(INT_NAMED, None)
    assert plan.names == ("0", "1", "2", "3")  # what messages say
    assert plan.labels == (0, 1, 2, 3)
    assert plan.rule(0, 0).kind == "float" and plan.rule(3, 3).kind == "float"
    assert plan.rule("3", 3).kind == "any"  # "3" is not the column 3: not declared
    assert plan.kept(["0", 1, "x"]) == [1]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (JSON, _j({"dataframe_split": {"columns": [0, 1, 2, 3], "data": [["x", 1, 2, 3]]}})),
        (CSV, b"0,1,2,3\nx,1,2,3\n"),
    ],
    ids=["json", "csv"],
)
def test_a_string_for_a_double_is_bad_request_as_in_mlflow(content_type, body) -> None:
    # the CSV header says "0".."3", so the same mistake needs a signature named so
    schema = INT_NAMED if content_type == JSON else Schema([ColSpec("double", c) for c in "0123"])
    with pytest.raises(InvalidColumnValue) as info:
        RequestDecoder(schema).decode(body, content_type)
    assert info.value.error_code == "BAD_REQUEST"
    assert info.value.column == "0"


def test_a_missing_column_stays_invalid_parameter_value_as_in_mlflow() -> None:
    body = _j({"dataframe_split": {"columns": [0, 1, 2], "data": [[1, 2, 3]]}})
    with pytest.raises(SchemaMismatch) as info:
        RequestDecoder(INT_NAMED).decode(body, JSON)
    assert type(info.value) is SchemaMismatch
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


HI = [{"role": "user", "content": "hi"}]
CHAT_BODIES = [
    ("records", _j({"dataframe_records": [{"messages": HI}]})),
    ("split", _j({"dataframe_split": {"columns": ["messages"], "data": [[HI]]}})),
    ("inputs-object", _j({"inputs": {"messages": HI}})),
    ("inputs-records", _j({"inputs": [{"messages": HI}]})),
]


def test_chat_rows_under_instances_are_refused_as_in_mlflow() -> None:
    # instances makes the messages column one 2-D numpy array, which MLflow's enforcement
    # refuses (tests/server/test_mlflow_wire.py, chat-instances-records)
    with pytest.raises(SchemaMismatch) as info:
        RequestDecoder(CHAT).decode(_j({"instances": [{"messages": HI}]}), JSON)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.usefixtures("json_backend")
@pytest.mark.parametrize("body", [b[1] for b in CHAT_BODIES], ids=[b[0] for b in CHAT_BODIES])
def test_chat_request_reaches_the_model_as_one_conversation(body) -> None:
    frame = RequestDecoder(CHAT).decode(body, JSON).data
    assert frame.columns.tolist() == ["messages"]
    assert frame["messages"].dtype == object
    assert frame["messages"].tolist() == [HI]


def test_every_complex_kind_decodes_to_python_values() -> None:
    row = {
        "messages": [{"role": "a"}, {"role": "b", "content": "c"}],
        "temperature": 1,
        "counts": {"x": 2},
        "extra": [[1, 2], [3, 4]],  # equal-length lists stay lists, not a 2-D array
    }
    frame = RequestDecoder(CHAT).decode(_j({"dataframe_records": [row, row]}), JSON).data
    assert frame.to_dict(orient="records") == [{**row, "temperature": 1.0}] * 2
    assert frame["temperature"].dtype == np.float64


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ({"messages": [{"role": "user", "content": 5}]}, "expected string at [0].content"),
        ({"messages": [{"content": "x"}]}, "required property 'role'"),
        ({"messages": "hi"}, "found a string"),
        ({"messages": HI, "counts": {"x": 1.5}}, "expected long at ['x']"),
    ],
    ids=["content-not-string", "role-missing", "string-for-array", "fraction-in-map"],
)
def test_complex_value_errors_are_bad_request_as_in_mlflow(row, fragment) -> None:
    with pytest.raises(InvalidColumnValue) as info:
        RequestDecoder(CHAT).decode(_j({"dataframe_records": [row]}), JSON)
    assert fragment in info.value.message
    assert info.value.error_code == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (JSON, _j({"dataframe_split": {"columns": ["t"], "data": [["2024-01-02T03:04:05"]]}})),
        (JSON, _j({"inputs": {"t": ["2024-01-02T03:04:05"]}})),
    ],
    ids=["split", "inputs"],
)
def test_datetimes_decode_to_nanoseconds(content_type, body) -> None:
    frame = RequestDecoder(Schema([ColSpec("datetime", "t")])).decode(body, content_type).data
    assert frame["t"].dtype == np.dtype("datetime64[ns]")
    assert frame["t"][0] == pd.Timestamp("2024-01-02T03:04:05")

"""Request bodies for a model whose signature is one ``str`` tensor, as MLflow answers them.

MLflow 3.17.2's scoring server (plugins/mlserve-onnx/tests/test_mlflow_inputs.py puts the same
bodies to it): ``inputs``/``instances`` rows are cast value by value as written
(``np.array(rows, dtype=str)``: ``2`` is ``"2"``, never ``"2.0"``); a frame of several columns
(``dataframe_split``, ``dataframe_records``) is refused by its enforcement
(``INVALID_PARAMETER_VALUE``); a CSV body is refused while it parses (``BAD_REQUEST``). A null
or an object among the values is refused where MLflow would give the model ``"None"`` or a
repr (docs/payloads.md, deliberate differences). tests/server/test_str_tensor_predict.py
checks that ``load_model(...).predict`` says what the server says for the same data.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from _codec_support import json_backend  # noqa: F401 (a fixture)

from mlserve.codecs import RequestDecoder
from mlserve.errors import MlserveError, PayloadError
from mlserve.schema import Schema, TensorSpec

SCHEMA = Schema([TensorSpec(np.dtype(str), (-1, 2))])
JSON, CSV = "application/json", "text/csv"


def _decode(body: Any, content_type: str = JSON) -> Any:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return RequestDecoder(SCHEMA).decode(raw, content_type).data


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"inputs": [[1.5, 2]]}, [["1.5", "2"]]),
        ({"instances": [[1.5, 2]]}, [["1.5", "2"]]),
        ({"inputs": [[1, 2.0]]}, [["1", "2.0"]]),
        ({"inputs": [[True, 1.5]]}, [["True", "1.5"]]),
        ({"inputs": [["a", 2]]}, [["a", "2"]]),
        ({"dataframe_split": {"columns": ["x"], "data": [[[1.5, 2]]]}}, [["1.5", "2.0"]]),
    ],
    ids=[
        "inputs-as-written",
        "instances-as-written",
        "a-float-written-2.0",
        "a-boolean",
        "a-number-among-strings",
        "a-column-of-lists-cast-as-stacked",
    ],
)
def test_values_reach_the_tensor_as_mlflow_casts_them(body: Any, expected: Any) -> None:
    got = _decode(body)
    assert got.dtype.kind == "U" and got.tolist() == expected


@pytest.mark.parametrize(
    ("body", "content_type", "error_code", "message"),
    [
        (
            {"dataframe_split": {"columns": ["p", "q"], "data": [["a", "c"]]}},
            JSON,
            "INVALID_PARAMETER_VALUE",
            "found a frame of 2 columns",
        ),
        (
            {"dataframe_split": {"columns": ["p", "q"], "data": [[1.5, 2]]}},
            JSON,
            "INVALID_PARAMETER_VALUE",
            "found a frame of 2 columns",
        ),
        ({"dataframe_records": [{"p": "a", "q": "c"}]}, JSON, "INVALID_PARAMETER_VALUE", "frame"),
        ("p,q\n1.5,2\n", CSV, "BAD_REQUEST", "a CSV body cannot carry the tensor"),
        ("p,q\na,c\n", CSV, "BAD_REQUEST", "a CSV body cannot carry the tensor"),
        ({"inputs": [["a", None]]}, JSON, "BAD_REQUEST", "found null"),
        ({"instances": [[1.5, None]]}, JSON, "BAD_REQUEST", "found null"),
        ({"inputs": [[{"a": 1}, "b"]]}, JSON, "BAD_REQUEST", "found an object"),
        ({"inputs": [["a", "b"], ["c"]]}, JSON, "BAD_REQUEST", "rows of unequal length"),
        ({"inputs": [[["a"], "b"]]}, JSON, "BAD_REQUEST", "rows of unequal length"),
    ],
    ids=[
        "split-strings",
        "split-numbers",
        "records",
        "csv-numbers",
        "csv-strings",
        "null",
        "null-among-numbers",
        "an-object",
        "ragged",
        "a-list-for-a-value",
    ],
)
def test_refusals(body: Any, content_type: str, error_code: str, message: str) -> None:
    with pytest.raises(MlserveError) as info:
        _decode(body, content_type)
    assert info.value.error_code == error_code
    assert message in str(info.value)


NAMED = Schema(
    [TensorSpec(np.dtype(str), (-1, 2), "x"), TensorSpec(np.dtype("float32"), (-1,), "v")]
)


@pytest.mark.parametrize(
    "body",
    [{"inputs": {"x": [[1.5, 2]], "v": [1]}}, {"instances": [{"x": [1.5, 2], "v": 1}]}],
    ids=["inputs", "instances"],
)
def test_a_named_str_tensor_takes_its_values_as_written(body: Any) -> None:
    # MLflow casts each named tensor by its spec (np.array(value, dtype=spec.type))
    got = RequestDecoder(NAMED).decode(json.dumps(body).encode(), JSON).data
    assert got["x"].dtype.kind == "U" and got["x"].tolist() == [["1.5", "2"]]
    assert got["v"].dtype == np.float32 and got["v"].tolist() == [1.0]


def test_csv_is_refused_for_a_numeric_tensor_too() -> None:
    # MLflow's CSV parsing fails for every tensor signature (BAD_REQUEST), numeric ones included
    floats = Schema([TensorSpec(np.dtype("float64"), (-1, 2))])
    with pytest.raises(PayloadError, match="a CSV body cannot carry the tensor"):
        RequestDecoder(floats).decode(b"p,q\n1.5,2\n", CSV)


@pytest.mark.usefixtures("json_backend")
def test_integers_past_64_bits_keep_every_digit() -> None:
    # MLflow's json.loads keeps them as ints, np.array(rows, dtype=str) writes every digit;
    # orjson alone would read 10**30 as 1e+30
    body = json.dumps({"inputs": [[10**30, -(2**63) - 1]]}).encode()
    got = RequestDecoder(Schema([TensorSpec(np.dtype(str), (-1, 2))])).decode(body, JSON)
    assert got.data.tolist() == [[str(10**30), str(-(2**63) - 1)]]

"""The schema rules over HTTP, against ``mlflow models serve`` 3.17.2 on the same models.

test_mlflow_values.py holds one nested value or param against MLflow's enforcement in process;
this suite sends whole requests to both servers (test_mlflow_wire's harness, _both_servers) for
the rules whose answer depends on MLflow's server too: a datetime string with an offset (MLflow
parses it, then refuses the time-zone-aware column), nested values in JSON bodies, and a
signature that declares both ``0`` and ``"0"``. Each case must get MLflow's status, its
``error_code`` for an error, and its JSON for a 200.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from store.mlflow._mlflow_peer import peer_python

from mlserve.schema import Array, ColSpec, Map, ModelSignature, Object, Property, Schema

from ._both_servers import SHAPES_PARAMS, SHAPES_SOURCE, save_custom, serve_both

pytestmark = pytest.mark.slow

JSON = "application/json"


def _typed(rows: list[list[Any]], kind: str = "describe") -> tuple[str, Any]:
    """For the model with a string s and a datetime t: what it was given (its dtypes)."""
    body = {"dataframe_split": {"columns": ["s", "t"], "data": rows}, "params": {"kind": kind}}
    return "typed", body


def _nested(column: str, value: Any) -> tuple[str, Any]:
    """One row of one optional complex column, echoed back by the model."""
    return "nested", {"dataframe_split": {"columns": [column], "data": [[value]]}}


def _zeros(columns: list[Any], rows: list[list[Any]]) -> tuple[str, Any]:
    """For the model with a double 0 and a long "0": the dtypes it was given."""
    body = {"dataframe_split": {"columns": columns, "data": rows}, "params": {"kind": "describe"}}
    return "zeros", body


OFFSET = "2024-01-02T03:04:05+01:00"
ECHO = {"params": {"kind": "echo"}}

CASES: dict[str, tuple[str, Any]] = {
    "datetime-naive": _typed([["a", "2024-01-02T03:04:05"]]),
    # MLflow parses an offset to a time-zone-aware column, then its enforcement refuses it:
    # 400 INVALID_PARAMETER_VALUE ("only contains timezone-naive datetime objects")
    "datetime-offset": _typed([["a", OFFSET]]),
    "datetime-offset-echo": _typed([["a", OFFSET]], "echo"),
    "datetime-zulu": _typed([["a", "2024-01-02T03:04:05Z"]]),
    "datetime-offset-and-null": _typed([["a", OFFSET], ["b", None]]),
    "datetime-offsets-alike": _typed([["a", OFFSET], ["b", "2024-01-02T04:04:05+01:00"]]),
    "datetime-offset-records": (
        "typed",
        {"dataframe_records": [{"s": "a", "t": OFFSET}], "params": {"kind": "describe"}},
    ),
    # two offsets, or naive beside aware: pandas cannot make one column of them (BAD_REQUEST)
    "datetime-mixed-offsets": _typed([["a", OFFSET], ["b", "2024-01-02T03:04:05+02:00"]]),
    "datetime-naive-then-aware": _typed([["a", "2024-01-02T03:04:05"], ["b", OFFSET]]),
    # MLflow's inputs/instances path casts with numpy: an offset gives the instant in UTC,
    # without the zone (200), as echoed back
    "datetime-null-split-echo": _typed([["a", "2024-01-02T03:04:05"], ["b", None]], "echo"),
    "datetime-offset-inputs": ("typed", {"inputs": {"s": ["a"], "t": [OFFSET]}, **ECHO}),
    "datetime-zulu-inputs": (
        "typed",
        {"inputs": {"s": ["a", "b"], "t": ["2024-01-02T03:04:05Z", None]}, **ECHO},
    ),
    "datetime-offset-inputs-records": ("typed", {"inputs": [{"s": "a", "t": OFFSET}], **ECHO}),
    "datetime-offset-instances": ("typed", {"instances": [{"s": "a", "t": OFFSET}], **ECHO}),
    # numpy's datetime forms, not pandas' wider ISO 8601 ones
    "datetime-numpy-forms-inputs": (
        "typed",
        {
            "inputs": {
                "s": list("abcdef"),
                "t": ["2024", "2024-01", "2024-01-02 03:04", " 2024-01-02", "NaT", ""],
            },
            **ECHO,
        },
    ),
    "datetime-pandas-only-form-inputs": (
        "typed",
        {"inputs": {"s": ["a"], "t": ["2024-1-2"]}, **ECHO},
    ),
    "datetime-basic-form-inputs": (
        "typed",
        {"inputs": {"s": ["a"], "t": ["20240102T030405"]}, **ECHO},
    ),
    "datetime-mixed-offsets-inputs": (
        "typed",
        {"inputs": {"s": ["a", "b"], "t": [OFFSET, "2024-01-02T03:04:05"]}, **ECHO},
    ),
    # nested values: MLflow's dtype rule (mlserve/schema/_nested_values.py)
    "array-double-zeros-and-ones": _nested("a_double", [0, 1]),
    # MLflow's server enforces an array while parsing ([0, 1] -> [0.0, 1.0]) and again in its
    # predict, where float64 is too wide for float (400 INVALID_PARAMETER_VALUE); in process
    # it accepts [0, 1] (test_mlflow_values), and so do we
    "array-float-zeros-and-ones": _nested("a_float", [0, 1]),
    "array-float-half": _nested("a_float", [0.5]),
    "array-float-empty": _nested("a_float", []),
    # the same under inputs, where MLflow makes each array an ndarray first
    "array-float-inputs-rows": ("nested", {"inputs": [{"a_float": [0, 1]}], **ECHO}),
    "array-float-inputs-row": ("nested", {"inputs": {"a_float": [0, 1]}, **ECHO}),
    "array-double-inputs-rows": ("nested", {"inputs": [{"a_double": [0.5, 2]}], **ECHO}),
    "array-long-inputs-ragged": ("nested", {"inputs": [{"a_long": [[1, 2], [3]]}], **ECHO}),
    "array-double-two": _nested("a_double", [2]),
    "array-double-minus-three": _nested("a_double", [-3]),
    "array-double-ints-and-floats": _nested("a_double", [2, 2.5]),
    "object-double-one": _nested("o_double", {"p": 1}),
    "object-double-two": _nested("o_double", {"p": 2}),
    "map-double-minus-three": _nested("m_double", {"k": -3}),
    "map-double-fraction": _nested("m_double", {"k": 1.5}),
    "array-float-fraction": _nested("a_float", [1.5]),
    "object-float-one": _nested("o_float", {"p": 1}),
    "object-float-fraction": _nested("o_float", {"p": 1.5}),
    "array-long": _nested("a_long", [2, 3]),
    "array-long-whole-float": _nested("a_long", [2.0]),
    "object-long-whole-float": _nested("o_long", {"p": 2.0}),
    "map-long-whole-float": _nested("m_long", {"k": 2.0}),
    "array-long-with-null": _nested("a_long", [1, None]),
    "array-integer": _nested("a_integer", [2]),
    "object-integer": _nested("o_integer", {"p": 2}),
    "array-datetime-string": _nested("a_datetime", ["2024-01-02"]),
    "object-datetime-string": _nested("o_datetime", {"p": "2024-01-02"}),
    "map-datetime-string": _nested("m_datetime", {"k": "2024-01-02"}),
    "object-binary-string": _nested("o_binary", {"p": "YWI="}),
    "map-binary-string": _nested("m_binary", {"k": "YWI="}),
    "array-binary-string": _nested("a_binary", ["YWI="]),
    # a signature naming columns 0 and "0": two columns, told apart by type (JSON keeps it);
    # the model answers the dtypes it was given (a frame with columns 0 and "0" as the answer
    # keeps the last, as a client reads MLflow's records: test_mlflow_wire, colliding-column-names)
    "zero-and-string-zero": _zeros([0, "0"], [[1, 2]]),
    "zero-and-string-zero-swapped": _zeros(["0", 0], [[2, 1.5]]),
    "zero-missing": _zeros(["0"], [[2]]),
    "string-zero-missing": _zeros([0], [[1.5]]),
}


def _signatures() -> dict[str, ModelSignature]:
    columns = []
    for t in ("double", "float", "long", "integer", "datetime", "binary"):
        columns += [
            ColSpec(Array(t), f"a_{t}", required=False),
            ColSpec(Object([Property("p", t)]), f"o_{t}", required=False),
            ColSpec(Map(t), f"m_{t}", required=False),
        ]
    zeros = Schema([ColSpec("double", 0), ColSpec("long", "0")])
    return {
        "typed": ModelSignature(
            Schema([ColSpec("string", "s"), ColSpec("datetime", "t")]), params=SHAPES_PARAMS
        ),
        "nested": ModelSignature(Schema(columns), params=SHAPES_PARAMS),
        "zeros": ModelSignature(zeros, params=SHAPES_PARAMS),
    }


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, str]]]:
    python = peer_python(3)  # skipped without it; a failure where MLflow is required
    root: Path = tmp_path_factory.mktemp("schema-wire")
    models = {
        name: save_custom(root / name, SHAPES_SOURCE, "Shapes", signature)
        for name, signature in _signatures().items()
    }
    with serve_both(python, models, root) as urls:
        yield urls


def _answer(url: str, body: Any) -> tuple[int, Any]:
    r = requests.post(
        f"{url}/invocations", data=json.dumps(body), headers={"Content-Type": JSON}, timeout=60
    )
    payload = r.json()
    if r.status_code != 200:
        return r.status_code, payload.get("error_code")
    return r.status_code, payload


@pytest.mark.parametrize("key", list(CASES))
def test_same_answer_as_mlflow(key: str, servers: dict[str, tuple[str, str]]) -> None:
    model, body = CASES[key]
    theirs_url, ours_url = servers[model]
    theirs, ours = _answer(theirs_url, body), _answer(ours_url, body)
    assert ours == theirs


def test_an_offset_is_refused_with_mlflows_code(servers: dict[str, tuple[str, str]]) -> None:
    # not only the same as MLflow: the code MLflow's enforcement gives (a guard against both
    # servers drifting together, e.g. a peer that stops refusing)
    _, ours_url = servers["typed"]
    assert _answer(ours_url, CASES["datetime-offset"][1]) == (400, "INVALID_PARAMETER_VALUE")

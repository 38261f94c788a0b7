"""A ``str`` tensor signature in ``SchemaEnforcer`` (what ``load_model(...).predict`` runs).

The answers are MLflow 3.17.2's (``mlflow models serve`` and its ``_enforce_tensor_schema``,
probed with the same values; plugins/mlserve-onnx/tests/test_mlflow_inputs.py holds the HTTP
side against the real server): nested lists are cast value by value as written
(``np.array(rows, dtype=str)``: ``2`` is ``"2"``), a frame column is cast as the frame holds it
(a float64 column's ``2.0`` is ``"2.0"``), a frame of several columns is refused. Where MLflow
would hand the model text the client never wrote (``"None"``, ``"nan"``, an object's repr) we
refuse: docs/payloads.md, deliberate differences.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlserve.errors import InvalidColumnValue, SchemaMismatch
from mlserve.schema import Schema, SchemaEnforcer, TensorSpec

ROWS = SchemaEnforcer(Schema([TensorSpec(np.dtype(str), (-1, 2))]))
VALUES = SchemaEnforcer(Schema([TensorSpec(np.dtype(str), (-1,))]))


@pytest.mark.parametrize(
    ("enforcer", "data", "expected"),
    [
        (ROWS, [[1.5, 2]], [["1.5", "2"]]),
        (ROWS, [[1, 2]], [["1", "2"]]),
        (ROWS, [[1.0, 2.5]], [["1.0", "2.5"]]),
        (ROWS, [[1e-7, 1e20]], [["1e-07", "1e+20"]]),
        (ROWS, [["a", 2]], [["a", "2"]]),
        (ROWS, [[True, 1.5]], [["True", "1.5"]]),
        (ROWS, [["a", "c"], ["b", "d"]], [["a", "c"], ["b", "d"]]),
        (VALUES, [1.5, 2], ["1.5", "2"]),
        # a frame column: as the frame holds it, as MLflow's np.array(column, dtype=str)
        (VALUES, pd.DataFrame({"p": [1.5, 2.0]}), ["1.5", "2.0"]),
        (VALUES, pd.DataFrame({"p": [1, 2]}), ["1", "2"]),
        (VALUES, pd.DataFrame({"p": [True, False]}), ["True", "False"]),
        (VALUES, pd.DataFrame({"p": [1.5, 2, "a"]}), ["1.5", "2", "a"]),
        (VALUES, pd.DataFrame({"p": ["a", "b"]}), ["a", "b"]),
        # a column of lists: stacked (numbers to float64), then cast
        (ROWS, pd.DataFrame({"x": [[1.5, 2], [3, 4]]}), [["1.5", "2.0"], ["3.0", "4.0"]]),
        (ROWS, pd.DataFrame({"x": [["a", "c"], ["b", "d"]]}), [["a", "c"], ["b", "d"]]),
    ],
    ids=[
        "rows-numbers-as-written",
        "rows-integers",
        "rows-a-float-written-1.0",
        "rows-exponents",
        "rows-a-number-among-strings",
        "rows-a-boolean",
        "rows-strings",
        "values-numbers-as-written",
        "column-float64",
        "column-int64",
        "column-bool",
        "column-mixed",
        "column-strings",
        "column-of-lists-of-numbers",
        "column-of-lists-of-strings",
    ],
)
def test_str_tensor_values(enforcer: SchemaEnforcer, data: Any, expected: list[Any]) -> None:
    got = enforcer(data)
    assert isinstance(got, np.ndarray) and got.dtype.kind == "U"
    assert got.tolist() == expected


@pytest.mark.parametrize(
    ("enforcer", "data", "found"),
    [
        (ROWS, [["a", None]], "null"),
        (ROWS, [[1.5, None]], "null"),
        (ROWS, [[float("nan"), "a"]], "null"),
        (ROWS, [[{"a": 1}, "b"]], "an object"),
        (VALUES, ["a", None], "null"),
        (VALUES, pd.DataFrame({"p": ["a", None]}), "null"),
        (VALUES, pd.DataFrame({"p": [1.5, None]}), "null"),
        (ROWS, pd.DataFrame({"x": [["a", None]]}), "null"),
    ],
    ids=[
        "rows-null",
        "rows-null-among-numbers",
        "rows-nan",
        "rows-an-object",
        "values-null",
        "column-null",
        "float-column-nan",
        "column-of-lists-null",
    ],
)
def test_text_the_client_never_wrote_is_refused(
    enforcer: SchemaEnforcer, data: Any, found: str
) -> None:
    # MLflow gives the model "None" ("nan" from a frame column, an object's repr): BAD_REQUEST
    with pytest.raises(InvalidColumnValue) as info:
        enforcer(data)
    assert info.value.error_code == "BAD_REQUEST"
    assert str(info.value).endswith(f"found {found}.")


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"p": ["a", "b"], "q": ["c", "d"]}),
        pd.DataFrame({"p": [1.5], "q": [2.0]}),
        pd.DataFrame({"p": [1], "q": [2]}),
    ],
    ids=["strings", "floats", "integers"],
)
def test_a_frame_of_columns_is_refused(frame: pd.DataFrame) -> None:
    # MLflow: the frame's to_numpy() is not of the tensor's str dtype (INVALID_PARAMETER_VALUE)
    with pytest.raises(SchemaMismatch) as info:
        ROWS(frame)
    assert type(info.value) is SchemaMismatch
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "found a frame of 2 columns" in str(info.value)


def test_one_column_of_single_values_for_two_wide_rows_is_refused() -> None:
    with pytest.raises(SchemaMismatch, match="a column of single values"):
        ROWS(pd.DataFrame({"p": ["a", "b"]}))


def test_a_numeric_tensor_still_takes_a_frame() -> None:
    # only text tensors refuse the whole frame: a float one is cast as before
    floats = SchemaEnforcer(Schema([TensorSpec(np.dtype("float64"), (-1, 2))]))
    got = floats(pd.DataFrame({"p": [1.5], "q": [2]}))
    assert got.dtype == np.float64 and got.tolist() == [[1.5, 2.0]]


def test_ragged_rows_are_refused_as_for_numbers() -> None:
    with pytest.raises(SchemaMismatch, match="rows of unequal length"):
        ROWS([["a", "b"], ["c"]])

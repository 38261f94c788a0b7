"""JSON request cases a mutation run of the object-of-columns, ``instances``, LLM and tensor
readers found unpinned: a map column's object whose values do not cast, an ``any`` column's list
that is not all text (or is empty) beside a single value, an unwrapped LLM body's values that
MLflow enforces uncast, and objects among (or as) the rows of an unnamed tensor.

Each expected answer is what MLflow 3.17.2 gives the same body (checked with its
``infer_and_parse_data``, or ``_split_data_and_params_for_llm_input`` for an LLM body, and
``_enforce_schema``): its casts' failures are BAD_REQUEST (``PayloadError``, or
``InvalidColumnValue`` for a column's value), its enforcement's INVALID_PARAMETER_VALUE (a plain
``SchemaMismatch``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from _codec_support import decoded as _decode
from _codec_support import refusal as _refusal

from mlserve.errors import InvalidColumnValue, PayloadError, SchemaMismatch
from mlserve.schema import AnyType, Array, ColSpec, Map, Schema, TensorSpec

MAP_AND_DOUBLE = Schema([ColSpec(Map("double"), "m"), ColSpec("double", "x")])


# -- an object of columns ----------------------------------------------------------------------


@pytest.mark.parametrize("x", [1.0, [1.0, 2.0]])
def test_a_maps_values_that_do_not_cast_in_an_object_of_columns_fail_its_cast(x: Any) -> None:
    # MLflow casts the object as one map first: "Failed to enforce schema of data `x` with
    # dtype `double`" while parsing, BAD_REQUEST (not the frame's refusal after it)
    exc = _refusal({"inputs": {"m": {"k": "x"}, "x": x}}, MAP_AND_DOUBLE)
    assert type(exc) is InvalidColumnValue
    assert exc.column == "m"


ANY_AND_DOUBLE = Schema([ColSpec(AnyType(), "z"), ColSpec("double", "x")])


def _frame(doc: Any, schema: Schema) -> dict[str, list[Any]]:
    frame = _decode(doc, schema)
    assert isinstance(frame, pd.DataFrame)
    return {str(c): [v.tolist() if hasattr(v, "tolist") else v for v in frame[c]] for c in frame}


def test_an_any_columns_list_of_text_and_numbers_is_rows_not_one_value() -> None:
    # MLflow's one-row rule takes a list only when every item is text: else pd.DataFrame(dict),
    # the single value repeated down the list's rows
    assert _frame({"inputs": {"z": ["a", 1], "x": 1.0}}, ANY_AND_DOUBLE) == {
        "z": ["a", 1],
        "x": [1.0, 1.0],
    }


def test_an_any_columns_empty_list_is_one_value_beside_a_single_value() -> None:
    # all() of no items is true: MLflow makes one row, z = [] (not a frame of no rows)
    assert _frame({"inputs": {"z": [], "x": 1.0}}, ANY_AND_DOUBLE) == {"z": [[]], "x": [1.0]}


# -- an unwrapped LLM body ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text"), [("long", "5"), ("double", "0.5"), ("datetime", "2020-01-01")]
)
def test_text_for_a_number_or_datetime_in_an_llm_body_is_refused_uncast(
    kind: str, text: str
) -> None:
    # MLflow enforces an LLM body without casting it: "Can not safely convert str to ..."
    # (INVALID_PARAMETER_VALUE), where numpy's cast would have read the text
    schema = Schema([ColSpec("string", "prompt"), ColSpec(kind, "k")])
    exc = _refusal({"prompt": "hi", "k": text}, schema)
    assert type(exc) is SchemaMismatch
    assert (exc.column, exc.found) == ("k", "a string")


def test_an_llm_bodys_lists_of_unequal_lengths_leave_pandas_no_frame() -> None:
    # a list of numbers is not one row's value: MLflow's enforcement makes pd.DataFrame(body),
    # which refuses lists of unequal lengths ("All arrays must be of the same length")
    schema = Schema([ColSpec("string", "prompt"), ColSpec("double", "k")])
    exc = _refusal({"prompt": ["a", "b"], "k": [1.0, 2.0, 3.0]}, schema)
    assert type(exc) is SchemaMismatch
    assert exc.column is None


# -- rows of objects for an unnamed tensor -----------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "rows"),
    [("float64", [{"a": 1.0}, {"a": 2.0}]), ("int64", [{"a": 1}, {"a": "2"}])],
)
def test_rows_of_objects_for_an_unnamed_tensor_meet_its_enforcement(
    dtype: str, rows: list[dict[str, Any]]
) -> None:
    # MLflow casts no row of objects for an unnamed signature (np.array(rows, dtype) would
    # fail, BAD_REQUEST): its enforcement refuses the list, INVALID_PARAMETER_VALUE
    exc = _refusal({"inputs": rows}, Schema([TensorSpec(np.dtype(dtype), (-1,))]))
    assert type(exc) is SchemaMismatch


@pytest.mark.parametrize(("dtype", "value"), [("float64", 2.0), ("int64", 2)])
def test_an_object_among_numbers_for_an_unnamed_tensor_fails_its_cast(
    dtype: str, value: Any
) -> None:
    # not every item is an object: MLflow casts the list with np.array(data, dtype), which
    # fails on the object ("float() argument must be ... not 'dict'"), BAD_REQUEST
    exc = _refusal({"inputs": [{"a": 1}, value]}, Schema([TensorSpec(np.dtype(dtype), (-1,))]))
    assert type(exc) is PayloadError
    assert exc.reason == f"'inputs' holds values that are not {dtype} numbers"


def test_an_object_for_a_plain_column_in_an_llm_body_is_refused_uncast() -> None:
    # an array column makes MLflow's enforcement one row of the body, uncast; pandas cannot
    # make a double of the object (INVALID_PARAMETER_VALUE), where a cast would be BAD_REQUEST
    schema = Schema(
        [
            ColSpec("string", "prompt"),
            ColSpec("double", "k"),
            ColSpec(Array("double"), "a", required=False),
        ]
    )
    exc = _refusal({"prompt": "hi", "k": {"z": 1}}, schema)
    assert type(exc) is SchemaMismatch

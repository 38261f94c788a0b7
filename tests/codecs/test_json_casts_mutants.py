"""JSON request cases a mutation run of the ``inputs``/``instances`` casts found unpinned: the
flat list cast as the first column's type, an object of columns for map and ``any`` columns,
the refusals of ``instances`` rows holding an array column, the first integer below int64
(which orjson reads as a float of exactly 2**63 in size), and text among the numbers of a
float tensor.

Each expected answer is what MLflow 3.17.2 gives the same body (checked with its
``infer_and_parse_data`` and ``_enforce_schema``): its casts' failures are BAD_REQUEST
(``PayloadError``, or ``InvalidColumnValue`` for a column's value), its enforcement's
INVALID_PARAMETER_VALUE (a plain ``SchemaMismatch``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from _codec_support import decoded as _decode
from _codec_support import json_backend  # noqa: F401 (a fixture)
from _codec_support import refusal as _refusal

from mlserve.errors import InvalidColumnValue, PayloadError, SchemaMismatch
from mlserve.schema import AnyType, Array, ColSpec, Map, Schema, TensorSpec

ARRAY_AND_DOUBLE = Schema([ColSpec(Array("double"), "a"), ColSpec("double", "x")])
TWO_DOUBLES = Schema([ColSpec("double", "x"), ColSpec("double", "y")])
MAP_AND_DOUBLE = Schema([ColSpec(Map("double"), "m"), ColSpec("double", "x")])
FLOAT_TENSOR = Schema([TensorSpec(np.dtype("float64"), (-1,))])


# -- a flat list for several columns: cast as the first column's type ---------------------------


def test_a_flat_list_that_fails_the_first_columns_cast_is_the_bodys_mistake() -> None:
    # MLflow: np.array([1.0, "q"], float64) fails while parsing: BAD_REQUEST
    exc = _refusal({"inputs": [1.0, "q"]}, TWO_DOUBLES)
    assert type(exc) is PayloadError
    assert exc.reason == (
        "'inputs' is a list, which MLflow casts whole as the first column's type (double), "
        "and some of its values do not cast; send rows of several types under "
        "'dataframe_split' or 'dataframe_records'"
    )


def test_a_flat_list_is_cast_as_the_first_column_not_the_second() -> None:
    # text casts to the first column's string; MLflow's enforcement then refuses the one
    # column it makes of the list (INVALID_PARAMETER_VALUE), not its cast
    schema = Schema([ColSpec("string", "s"), ColSpec("double", "x")])
    exc = _refusal({"inputs": ["a", "b"]}, schema)
    assert type(exc) is SchemaMismatch
    assert (exc.expected, exc.found) == ("rows of 2 values", "a flat list")


@pytest.mark.parametrize(
    ("values", "error"),
    [
        # MLflow's _enforce_array fails on the text while parsing: BAD_REQUEST
        pytest.param(["q", 1.0], InvalidColumnValue, id="not-an-array-of-doubles"),
        # the cast takes it; the enforcement refuses one column for two
        pytest.param([1.0, 2.0], SchemaMismatch, id="an-array-of-doubles"),
    ],
)
def test_a_flat_list_under_instances_is_checked_as_one_array_of_the_first_column(
    values: list[Any], error: type[Exception]
) -> None:
    exc = _refusal({"instances": values}, ARRAY_AND_DOUBLE)
    assert type(exc) is error
    if error is InvalidColumnValue:
        assert exc.column == "a"


# -- an object of columns for map and any columns ------------------------------------------------


def test_an_object_for_a_map_column_in_an_object_of_columns_is_refused() -> None:
    # MLflow: pd.DataFrame(dict) reads the map's keys as row labels; enforcement refuses it
    exc = _refusal({"inputs": {"m": {"k": 1.0}, "x": 1.0}}, MAP_AND_DOUBLE)
    assert type(exc) is SchemaMismatch
    assert (exc.column, exc.expected, exc.found) == (
        "m",
        "one value per row; send rows as a list of objects",
        "an object",
    )


def test_a_list_for_a_map_column_in_an_object_of_columns_fails_its_cast() -> None:
    # MLflow casts the whole list as one map: "Expected data to be a dict, got list"
    exc = _refusal({"inputs": {"m": [{"k": 1.0}], "x": [1.0]}}, MAP_AND_DOUBLE)
    assert type(exc) is PayloadError
    assert exc.reason == (
        "'inputs.m' is a list, where a map column takes one map; send rows as a list of objects"
    )


def test_an_any_columns_list_of_strings_is_one_value_beside_a_single_value() -> None:
    # MLflow: one row, a = ["p", "q"], x = 1.0 (not two rows of strings)
    schema = Schema([ColSpec(AnyType(), "a"), ColSpec("double", "x")])
    data = _decode({"inputs": {"a": ["p", "q"], "x": 1.0}}, schema)
    assert len(data) == 1
    assert list(data["a"][0]) == ["p", "q"] and data["x"].tolist() == [1.0]
    assert data["x"].dtype == np.float64


def test_an_object_for_a_double_in_an_object_of_columns_fails_its_cast() -> None:
    # MLflow: "float() argument must be ... not 'dict'" while parsing: BAD_REQUEST
    exc = _refusal({"inputs": {"x": {"k": 1.0}, "y": 2.0}}, TWO_DOUBLES)
    assert type(exc) is InvalidColumnValue
    assert exc.column == "x"


SIX_DOUBLES = Schema([ColSpec("double", n) for n in "abcdef"])
SIX_LENGTHS = {n: list(range(1, i + 2)) for i, n in enumerate("abcdef")}


def test_unequal_lists_under_instances_name_at_most_five_lengths() -> None:
    # MLflow's parse_instances_data: "The length of values ... are not the same" (BAD_REQUEST)
    exc = _refusal({"instances": SIX_LENGTHS}, SIX_DOUBLES)
    assert type(exc) is PayloadError
    assert exc.reason == "the lists in 'instances' have unequal lengths [1, 2, 3, 4, 5]"


def test_unequal_lists_under_inputs_name_at_most_five_lengths() -> None:
    # MLflow's enforcement: "All arrays must be of the same length" (INVALID_PARAMETER_VALUE)
    exc = _refusal({"inputs": SIX_LENGTHS}, SIX_DOUBLES)
    assert type(exc) is SchemaMismatch
    assert exc.found == "lists of lengths [1, 2, 3, 4, 5]"


# -- instances rows holding an array column -------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "rows", "column"),
    [
        pytest.param(ARRAY_AND_DOUBLE, [{"a": [1.0], "x": "q"}], "x", id="after-the-array"),
        pytest.param(
            Schema(
                [
                    ColSpec("double", "w", required=False),
                    ColSpec(Array("double"), "a"),
                    ColSpec("double", "y"),
                ]
            ),
            [{"a": [1.0], "y": "q"}],
            "y",
            id="after-a-column-not-sent",
        ),
    ],
)
def test_a_plain_cell_of_instances_rows_that_does_not_cast_is_the_bodys_mistake(
    schema: Schema, rows: list[Any], column: str
) -> None:
    # MLflow's convert_data_type on each cell: "could not convert string to float: 'q'"
    exc = _refusal({"instances": rows}, schema)
    assert type(exc) is PayloadError
    assert exc.reason == f"a value of {column!r} in 'instances' does not cast to float64"


def test_an_array_cell_of_instances_rows_that_does_not_fit_is_the_bodys_mistake() -> None:
    # MLflow: "Can not safely convert str to float64" while parsing the second row
    exc = _refusal(
        {"instances": [{"a": [1.0], "x": 1.0}, {"a": ["q"], "x": 2.0}]}, ARRAY_AND_DOUBLE
    )
    assert type(exc) is InvalidColumnValue
    assert exc.column == "a"


COUNTS_MISMATCH = (
    "the rows of 'instances' give the columns different numbers of values; send the rows "
    "under 'inputs' or 'dataframe_records'"
)
XYZ = [ColSpec("double", n) for n in "xyz"]


@pytest.mark.parametrize(
    ("schema", "rows", "error"),
    [
        # the array column is not counted (MLflow's check leaves Array columns out): the
        # stacked arrays reach its enforcement, which refuses them
        pytest.param(
            ARRAY_AND_DOUBLE, [{"a": [1.0], "x": 1.0}, {"x": 2.0}], SchemaMismatch, id="array"
        ),
        # two plain columns with 2 and 1 values: "The length of values ... are not the same"
        pytest.param(
            Schema([ColSpec(Array("double"), "a"), *XYZ[:2]]),
            [{"a": [1.0], "x": 1.0, "y": 1.0}, {"a": [2.0], "x": 2.0}],
            PayloadError,
            id="two-counts",
        ),
        pytest.param(
            Schema([ColSpec(Array("double"), "a"), *XYZ]),
            [{"a": [1.0], "x": 1.0, "y": 1.0, "z": 1.0}, {"x": 2.0, "y": 2.0}, {"x": 3.0}],
            PayloadError,
            id="three-counts",
        ),
    ],
)
def test_instances_rows_count_the_values_of_required_plain_columns(
    schema: Schema, rows: list[Any], error: type[Exception]
) -> None:
    exc = _refusal({"instances": rows}, schema)
    assert type(exc) is error
    if error is PayloadError:
        assert exc.reason == COUNTS_MISMATCH
    else:
        assert exc.column == "a"


# -- nested lists of unequal lengths --------------------------------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        pytest.param(None, id="no-signature"),
        pytest.param(Schema([ColSpec(Array(Array("double")), "a")]), id="array-of-arrays"),
    ],
)
def test_ragged_nested_lists_under_inputs_name_the_key(schema: Schema | None) -> None:
    # MLflow's np.array(...) of the value: "inhomogeneous shape" while parsing (BAD_REQUEST)
    exc = _refusal({"inputs": [{"a": [[1.5], [1.5, 2.5]]}]}, schema)
    assert type(exc) is PayloadError
    assert exc.reason == "'inputs' holds nested lists of unequal lengths"


# -- -(2**63) - 1: orjson reads it as a float of exactly 2**63 in size ----------------------------
# (orjson keeps integers of 64 bits as ints, signed or not: -(2**63) - 1 is the first below them
# and 2**64 the first above, and |float(-(2**63) - 1)| is 2**63 itself, the bound refloat keeps)
EDGE = -(2**63) - 1


@pytest.mark.usefixtures("json_backend")
def test_the_first_integer_below_int64_keeps_its_digits_without_a_signature() -> None:
    # MLflow's json.loads keeps the int: np.array of it is an object array of that int
    data = _decode({"inputs": [EDGE]})
    assert data.dtype == object and data.tolist() == [EDGE] and type(data[0]) is int


@pytest.mark.usefixtures("json_backend")
def test_the_first_integer_below_int64_beside_a_null_keeps_its_digits() -> None:
    # an object array (the null) holding orjson's float: MLflow hands the model [EDGE, None]
    data = _decode({"inputs": [EDGE, None]})
    assert data.dtype == object
    assert type(data[0]) is int and data[0] == EDGE and data[1] is None


@pytest.mark.usefixtures("json_backend")
def test_the_first_integer_below_int64_in_a_string_column_keeps_its_digits() -> None:
    # MLflow hands the model the int json.loads made (an object column), not orjson's float
    data = _decode({"dataframe_records": [{"s": EDGE}]}, Schema([ColSpec("string", "s")]))
    assert data["s"].tolist() == [EDGE] and type(data["s"][0]) is int


# -- a float tensor: numbers written as text are read, other text is refused ----------------------


def test_numbers_as_text_in_a_float_tensor_are_read_as_numpy_reads_them() -> None:
    # MLflow: np.array(["0.5", 1.5], dtype=float64)
    data = _decode({"inputs": ["0.5", 1.5]}, FLOAT_TENSOR)
    assert data.dtype == np.float64 and data.tolist() == [0.5, 1.5]


def test_text_that_is_not_a_number_in_a_float_tensor_is_the_bodys_mistake() -> None:
    # MLflow: "could not convert string to float: 'x'" while parsing (BAD_REQUEST)
    exc = _refusal({"inputs": ["x", 1.5]}, FLOAT_TENSOR)
    assert type(exc) is PayloadError
    assert exc.reason == "'inputs' holds values that are not float64 numbers"


def test_a_null_named_float_tensor_reaches_the_shape_check() -> None:
    # MLflow: np.array(None, float32) is a 0-d nan, which its enforcement refuses by shape
    schema = Schema(
        [
            TensorSpec(np.dtype("float32"), (-1,), "x"),
            TensorSpec(np.dtype("float32"), (-1,), "y"),
        ]
    )
    exc = _refusal({"inputs": {"x": None, "y": [1.5]}}, schema)
    assert type(exc) is SchemaMismatch
    assert exc.column == "x"


# -- dataframe_split's index over a uniform numeric frame -----------------------------------------


def test_the_index_of_an_all_double_split_frame_is_kept() -> None:
    doc = {"dataframe_split": {"columns": ["x", "y"], "data": [[1.5, 2.5], [3.5, 4.5]]}}
    doc["dataframe_split"]["index"] = [5, 6]
    data = _decode(doc, TWO_DOUBLES)
    expected = pd.DataFrame({"x": [1.5, 3.5], "y": [2.5, 4.5]}, index=[5, 6])
    pd.testing.assert_frame_equal(data, expected)

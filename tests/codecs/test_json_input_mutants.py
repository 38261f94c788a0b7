"""JSON request cases a mutation run of the JSON input codec found unpinned: the limits on the
shapes new this session, which columns the Array(float) and instances refusals look at, which
values become ndarrays, and what the refusals say."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from mlserve.codecs import DecodeLimits, RequestDecoder
from mlserve.errors import MlserveError, PayloadError, PayloadTooLarge, SchemaMismatch
from mlserve.schema import AnyType, Array, ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec

JSON = "application/json"
COMPLEX = Schema([ColSpec(Array("double"), "a"), ColSpec("double", "x")])
OPTIONAL_ARRAY = Schema([ColSpec(Array("double"), "a", required=False), ColSpec("double", "x")])
NAMED_TENSORS = Schema(
    [TensorSpec(np.dtype("float32"), (-1, 2), "x"), TensorSpec(np.dtype("int32"), (-1,), "y")]
)


def _decode(doc: Any, schema: Schema | None = None, **options: Any) -> Any:
    params = options.pop("params", None)
    return RequestDecoder(schema, params, **options).decode(json.dumps(doc).encode(), JSON)


def test_inputs_objects_without_a_signature_are_dicts_of_ndarrays() -> None:
    # MLflow 3.17.2's infer_and_parse_data:
    # [{'a': array(1), 'b': array([1, 2])}, {'a': array(2)}]
    data = _decode({"inputs": [{"a": 1, "b": [1, 2]}, {"a": 2}]}).data
    assert isinstance(data, list) and [list(row) for row in data] == [["a", "b"], ["a"]]
    assert all(isinstance(v, np.ndarray) for row in data for v in row.values())
    assert [data[0]["a"].tolist(), data[0]["b"].tolist(), data[1]["a"].tolist()] == [1, [1, 2], 2]


@pytest.mark.parametrize(
    ("rows", "limits", "what"),
    [
        pytest.param([{"a": 1}, {"a": 2}], DecodeLimits(max_rows=1), "rows", id="rows"),
        pytest.param(
            [{"a": 1}, {"a": 2, "b": 1, "c": 2}], DecodeLimits(max_columns=2), "columns", id="cols"
        ),
    ],
)
def test_inputs_objects_without_a_signature_are_held_to_the_limits(
    rows: Any, limits: DecodeLimits, what: str
) -> None:
    with pytest.raises(PayloadTooLarge, match=f"has {len(rows) if what == 'rows' else 3} {what}"):
        _decode({"inputs": rows}, limits=limits)


def test_an_unwrapped_body_counts_only_its_data_keys_against_max_columns() -> None:
    # the declared params are not columns: one data key under a limit of one column
    chat = Schema([ColSpec(Array("string"), "messages")])
    params = ParamSchema(
        [ParamSpec("temperature", "double", 0.5), ParamSpec("max_tokens", "long", 16)]
    )
    doc = {"messages": ["hi"], "temperature": 0.1, "max_tokens": 3}
    decoded = _decode(doc, chat, params=params, limits=DecodeLimits(max_columns=1))
    assert decoded.params == {"temperature": 0.1, "max_tokens": 3}
    assert [list(m) for m in decoded.data["messages"]] == [["hi"]]


def test_an_unwrapped_body_for_a_tensor_says_what_it_expected() -> None:
    with pytest.raises(SchemaMismatch) as info:
        _decode({"messages": ["hi"]}, Schema([TensorSpec(np.dtype("float64"), (-1, 4))]))
    assert info.value.message == (
        "Schema mismatch for input: expected a tensor under 'inputs' or 'instances', "
        "found an unwrapped LLM body (messages, prompt or input)."
    )


def test_zeros_and_ones_for_an_array_of_doubles_are_read() -> None:
    # only Array(float) refuses them (float64 is wider than float); a double column takes them
    data = _decode({"dataframe_records": [{"a": [0, 1], "x": 1.0}]}, COMPLEX).data
    assert data["a"].tolist() == [[0.0, 1.0]]


def test_an_array_of_float_declared_after_another_column_is_refused_too() -> None:
    schema = Schema([ColSpec("double", "x"), ColSpec(Array("float"), "a")])
    with pytest.raises(SchemaMismatch) as info:
        _decode({"dataframe_records": [{"a": [0, 1], "x": 1.0}]}, schema)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE" and info.value.column == "a"
    assert info.value.message == (
        "Schema mismatch for column 'a': expected Array(float), found JSON numbers, which "
        "MLflow's server reads as float64, wider than float."
    )


@pytest.mark.parametrize("cell", [[2, 3], [0.0, 1.0]], ids=["other-integers", "floats"])
def test_other_numbers_for_an_array_of_float_fail_the_parse_time_check(cell: Any) -> None:
    # MLflow's server: every number but the integers 0 and 1 fails its first check, BAD_REQUEST
    with pytest.raises(MlserveError) as info:
        _decode({"dataframe_records": [{"a": cell}]}, Schema([ColSpec(Array("float"), "a")]))
    assert info.value.error_code == "BAD_REQUEST"


def test_only_array_columns_become_ndarrays_under_inputs() -> None:
    data = _decode({"inputs": [{"x": 1.0}, {"a": [1.5], "x": 2.0}]}, OPTIONAL_ARRAY).data
    assert data["x"].dtype == np.float64
    # a missing array value stays a null, not a 0-d array of None
    assert data["a"][0] is None
    assert isinstance(data["a"][1], np.ndarray) and data["a"][1].tolist() == [1.5]


def test_instances_rows_without_the_optional_array_column_are_refused_too() -> None:
    # MLflow 3.17.2's server: the signature's array column makes its enforcement read the
    # stacked values as one row, x an array of them (INVALID_PARAMETER_VALUE)
    with pytest.raises(SchemaMismatch) as info:
        _decode({"instances": [{"x": 1.0}]}, OPTIONAL_ARRAY)
    assert type(info.value) is SchemaMismatch and info.value.column is None


@pytest.mark.parametrize(
    ("rows", "error", "message"),
    [
        pytest.param(
            [{"a": [1.5, 2.5], "x": 1.0}],
            SchemaMismatch,
            "Schema mismatch for column 'a': expected one value per row ('instances' makes each "
            "column one array of them, which a signature with an array or object column takes "
            "as one row), found rows of objects; send them under 'inputs' or "
            "'dataframe_records'.",
            id="rectangular",
        ),
        pytest.param(
            [{"a": [1.5, 2.5], "x": 1.0}, {"a": [1.5], "x": 2.0}],
            PayloadError,
            "Invalid request body: the values of 'a' in 'instances' have unequal lengths (or "
            "are lists among single values); send the rows under 'inputs' or "
            "'dataframe_records'",
            id="ragged",
        ),
        # a row that is not an object: refused before any cell is cast (MLflow's
        # parse_instances_data fails on 5.items(): BAD_REQUEST)
        pytest.param(
            [{"a": [1.5, 2.5], "x": 1.0}, 5],
            PayloadError,
            "Invalid request body: 'instances' must be a list of objects (one per row)",
            id="not-an-object",
        ),
    ],
)
def test_instances_rows_with_an_array_column_say_why(
    rows: Any, error: type[MlserveError], message: str
) -> None:
    with pytest.raises(error) as info:
        _decode({"instances": rows}, COMPLEX)
    assert type(info.value) is error and info.value.message == message


def test_one_named_tensor_sent_as_a_list_is_that_tensor() -> None:
    one = Schema([TensorSpec(np.dtype("float32"), (-1, 2), "x")])
    data = _decode({"inputs": [[1, 2]]}, one).data
    assert isinstance(data, dict) and list(data) == ["x"]
    assert data["x"].dtype == np.float32 and data["x"].tolist() == [[1.0, 2.0]]


@pytest.mark.parametrize(
    ("doc", "schema", "message"),
    [
        pytest.param(
            {"inputs": [[1, 2]]},
            NAMED_TENSORS,
            "Schema mismatch for input: expected an object with the named tensors x, y, "
            "found a list.",
            id="list-for-named-tensors",
        ),
        # MLflow: pd.DataFrame(dict) refuses them in its enforcement under 'inputs'
        # (INVALID_PARAMETER_VALUE); parse_instances_data checks the lengths first (BAD_REQUEST)
        pytest.param(
            {"inputs": {"a": [1, 2], "b": ["x"]}},
            Schema([ColSpec("double", "a"), ColSpec("string", "b")]),
            "Schema mismatch for input: expected lists of one length (one per column), found "
            "lists of lengths [1, 2].",
            id="unequal-columns",
        ),
        pytest.param(
            {"instances": {"a": [1, 2], "b": ["x"]}},
            Schema([ColSpec("double", "a"), ColSpec("string", "b")]),
            "Invalid request body: the lists in 'instances' have unequal lengths [1, 2]",
            id="unequal-columns-instances",
        ),
        pytest.param(
            {},
            None,
            "Invalid request body: expected exactly one of dataframe_split, dataframe_records, "
            "instances, inputs; found none of them",
            id="no-input-key",
        ),
        pytest.param(
            [1],
            None,
            "Invalid request body: expected a JSON object with one of dataframe_split, "
            "dataframe_records, instances, inputs; found a list",
            id="not-an-object",
        ),
        pytest.param(
            {"inputs": [1], **{f"k{i:02}": 1 for i in range(12)}},
            None,
            "Invalid request body: unknown top-level key(s) "
            + ", ".join(repr(f"k{i:02}") for i in range(10))
            + "; accepted keys: dataframe_split, dataframe_records, instances, inputs, params",
            id="ten-unknown-keys-named",
        ),
    ],
)
def test_json_shape_messages(doc: Any, schema: Schema | None, message: str) -> None:
    with pytest.raises(MlserveError) as info:
        _decode(doc, schema)
    assert info.value.message == message


def test_an_empty_body_says_json_is_expected() -> None:
    with pytest.raises(PayloadError) as info:
        RequestDecoder().decode(b" ", JSON)
    assert info.value.message == "Invalid request body: the body is empty; expected a JSON object"


def test_records_with_more_keys_further_down_keep_every_column() -> None:
    # pd.DataFrame(records), as MLflow builds it: the union of the keys, nulls in the gaps
    data = _decode({"dataframe_records": [{"a": 1}, {"a": 2, "b": 3}]}).data
    assert list(data.columns) == ["a", "b"]
    assert data["a"].tolist() == [1, 2] and data["b"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    ("schema", "doc", "column"),
    [
        # the rule found by position for a signature without names
        pytest.param(
            Schema([ColSpec("double")]), {"inputs": {"a": [[1.5]]}}, "0", id="unnamed-double"
        ),
        # an array column makes the object one row, whose double holds a list
        pytest.param(COMPLEX, {"inputs": {"x": [[1.5]], "a": [1.5]}}, "x", id="one-row"),
    ],
)
def test_lists_for_a_column_of_numbers_under_inputs_are_refused(
    schema: Schema, doc: Any, column: str
) -> None:
    with pytest.raises(SchemaMismatch) as info:
        _decode(doc, schema)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE" and info.value.column == column


def test_lists_for_an_any_column_under_inputs_are_read() -> None:
    data = _decode({"inputs": {"a": [[1, 2]]}}, Schema([ColSpec(AnyType(), "a")])).data
    assert [list(v) for v in data["a"]] == [[1, 2]]


def test_no_rows_for_array_columns_under_inputs_lack_the_columns() -> None:
    with pytest.raises(SchemaMismatch) as info:
        _decode({"inputs": []}, COMPLEX)
    assert info.value.message == (
        "Schema mismatch for input: expected required columns 'a', 'x', found them missing."
    )


def test_a_flat_list_is_the_one_unnamed_column() -> None:
    data = _decode({"inputs": [1.0, 2.0]}, Schema([ColSpec("double")])).data
    assert data[0].tolist() == [1.0, 2.0] and data[0].dtype == np.float64
    with pytest.raises(SchemaMismatch, match="expected rows of 2 values, found a flat list"):
        _decode({"inputs": [1.0, 2.0]}, Schema([ColSpec("double"), ColSpec("double")]))


def test_an_empty_object_under_inputs_is_no_rows() -> None:
    schema = Schema([ColSpec("double", "a", required=False)])
    assert len(_decode({"inputs": {}}, schema, enforce=False).data) == 0


def test_one_named_tensor_sent_as_an_object_takes_its_dtype() -> None:
    one = Schema([TensorSpec(np.dtype("float32"), (-1, 2), "x")])
    data = _decode({"inputs": {"x": [[1, 2]]}}, one).data
    assert data["x"].dtype == np.float32 and data["x"].tolist() == [[1.0, 2.0]]


def test_one_value_under_inputs_is_the_column_named_0() -> None:
    # MLflow 3.17.2: pd.DataFrame([1.5]), one column labelled 0, which a signature naming its
    # column 0 takes (_enforce_schema gives the frame {0: [1.5]})
    data = _decode({"inputs": 1.5}, Schema([ColSpec("double", 0)])).data
    assert data.to_dict("list") == {0: [1.5]}


@pytest.mark.parametrize(
    "doc",
    [
        {"inputs": {"t": ["2024-01-02T03:04:05+01:00"]}},
        {"instances": [{"t": "2024-01-02T03:04:05+01:00"}]},
    ],
    ids=["inputs", "instances"],
)
def test_an_offset_under_inputs_or_instances_is_the_instant_in_utc(doc: Any) -> None:
    # MLflow casts these shapes with numpy: the instant in UTC, without the zone
    data = _decode(doc, Schema([ColSpec("datetime", "t")])).data
    assert str(data["t"].iloc[0]) == "2024-01-02 02:04:05"

"""What MLflow's ``inputs``/``instances`` casts make of keys a signature does not declare, of
``instances`` rows whose keys or lengths differ, of lists cast whole as the first column's type,
of text in an integer tensor and of an unwrapped LLM body's lists of text.

Each expected answer is what MLflow 3.17.2's server gives the same body (the same bodies are
replayed against ``mlflow models serve`` in tests/server/test_mlflow_wire_casts.py): its casts'
failures are BAD_REQUEST (``PayloadError``), its enforcement's INVALID_PARAMETER_VALUE (a plain
``SchemaMismatch``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from _codec_support import decoded as _decode
from _codec_support import refusal as _refusal

from mlserve.errors import PayloadError, SchemaMismatch
from mlserve.schema import (
    AnyType,
    Array,
    ColSpec,
    ParamSchema,
    ParamSpec,
    Schema,
    SchemaEnforcer,
    TensorSpec,
)

V = Schema([ColSpec("double", "v")])
AB = Schema([ColSpec("double", "a"), ColSpec("double", "b")])
ANY_X = Schema([ColSpec(AnyType(), "z"), ColSpec("double", "x", required=False)])
TENSORS = Schema(
    [TensorSpec(np.dtype("float64"), (-1,), "a"), TensorSpec(np.dtype("float64"), (-1,), "b")]
)
INT_TENSOR = Schema([TensorSpec(np.dtype("int64"), (-1, 2))])
PROMPT = Schema([ColSpec("string", "prompt")])


def _frame(doc: Any, schema: Schema) -> dict[str, list[Any]]:
    frame = _decode(doc, schema)
    assert isinstance(frame, pd.DataFrame)
    return {str(c): list(frame[c]) for c in frame.columns}


# -- an object of columns: an undeclared key's value is an array to MLflow, never single ------


@pytest.mark.parametrize("extra", [None, {"k": 1}, "q", 5])
def test_an_undeclared_key_beside_single_values_leaves_pandas_no_index(extra: Any) -> None:
    exc = _refusal({"inputs": {"v": 1.0, "e": extra}}, V)
    assert type(exc) is SchemaMismatch
    assert "beside the keys the signature does not declare" in str(exc)


def test_the_same_single_values_alone_are_one_row() -> None:
    assert _frame({"inputs": {"v": 1.0}}, V) == {"v": [1.0]}


def test_an_undeclared_list_repeats_the_single_values_down_its_rows() -> None:
    assert _frame({"inputs": {"v": 1.0, "e": [1, 2]}}, V) == {"v": [1.0, 1.0]}
    assert _frame({"inputs": {"v": [1.0, 2.0], "e": "x"}}, V) == {"v": [1.0, 2.0]}


def test_an_undeclared_key_turns_off_the_one_row_rule_for_texts() -> None:
    assert _frame({"inputs": {"z": ["a", "b"]}}, ANY_X) == {"z": [["a", "b"]]}
    assert _frame({"inputs": {"z": ["a", "b"], "e": "q"}}, ANY_X) == {"z": ["a", "b"]}


def test_a_json_key_does_not_name_an_integer_named_column() -> None:
    exc = _refusal({"inputs": {"0": 1.0}}, Schema([ColSpec("double", 0)]))
    assert type(exc) is SchemaMismatch


def test_instances_count_only_the_required_declared_lists() -> None:
    # an undeclared or optional key's other length meets pandas: INVALID_PARAMETER_VALUE
    assert type(_refusal({"instances": {"v": [1.0, 2.0], "e": [1, 2, 3]}}, V)) is SchemaMismatch
    assert type(_refusal({"instances": {"z": [1, 2], "x": [1.0]}}, ANY_X)) is SchemaMismatch
    # two required columns of other lengths: MLflow's own check, BAD_REQUEST
    exc = _refusal({"instances": {"a": [1.0, 2.0], "b": [1.0]}}, AB)
    assert type(exc) is PayloadError
    assert exc.reason == "the lists in 'instances' have unequal lengths [1, 2]"
    # under inputs pandas refuses them all alike
    assert type(_refusal({"inputs": {"a": [1.0, 2.0], "b": [1.0]}}, AB)) is SchemaMismatch


# -- instances rows: each key's values from the rows that have it, stacked, then counted -----


def _rows(*extra: dict[str, Any]) -> dict[str, Any]:
    return {"instances": [{"a": 1.0, "b": 2.0, **e} for e in extra]}


@pytest.mark.parametrize(
    ("first", "second"),
    [({"e": 1}, {"e": [2]}), ({"e": [1]}, {"e": [1, 2]}), ({}, {"a": [0.5]})],
    ids=["list-and-single", "ragged", "declared-list-and-single"],
)
def test_values_that_do_not_stack_are_the_bodys_mistake(first: Any, second: Any) -> None:
    exc = _refusal(_rows(first, second), AB)
    assert type(exc) is PayloadError
    key = next(iter(second))
    assert exc.reason.startswith(f"the values of '{key}' in 'instances' have unequal lengths")


def test_lists_that_stack_pass_and_the_undeclared_key_is_dropped() -> None:
    assert _frame(_rows({"e": [1]}, {"e": [2]}), AB) == {"a": [1.0, 1.0], "b": [2.0, 2.0]}


def test_a_row_lacking_a_required_column_is_counted() -> None:
    exc = _refusal({"instances": [{"a": 1.0, "b": 2.0}, {"b": 3.0}]}, AB)
    assert type(exc) is PayloadError
    assert "different numbers of values" in exc.reason


@pytest.mark.parametrize(
    ("doc", "schema"),
    [
        (_rows({"e": 1}, {}), AB),
        ({"instances": [{"z": 1, "x": 1.0}, {"z": 2}]}, ANY_X),
    ],
    ids=["undeclared-in-one-row", "optional-in-one-row"],
)
def test_uneven_keys_not_counted_meet_pandas(doc: Any, schema: Schema) -> None:
    exc = _refusal(doc, schema)
    assert type(exc) is SchemaMismatch and "keys missing from some rows" in str(exc)


def test_a_list_that_does_not_cast_to_its_plain_column_is_the_bodys_mistake() -> None:
    exc = _refusal(_rows({"a": [1.0]}, {"a": ["x"]}), AB)
    assert type(exc) is PayloadError
    assert exc.reason == "a value of 'a' in 'instances' does not cast to float64"


def test_an_array_column_is_not_counted() -> None:
    # MLflow's check skips Array columns; its enforcement then refuses the stack
    schema = Schema([ColSpec(Array("double"), "a"), ColSpec("double", "x")])
    exc = _refusal({"instances": [{"a": [1.0], "x": 1.0}, {"x": 2.0}]}, schema)
    assert type(exc) is SchemaMismatch and "one value per row" in str(exc)


# -- instances for a tensor signature or none: gathered without gaps, then counted -------------


def test_rows_of_other_keys_without_a_signature_are_gathered_without_nulls() -> None:
    got = _decode({"instances": [{"a": 1}, {"b": 2}]}, None)
    assert {k: v.tolist() for k, v in got.items()} == {"a": [1], "b": [2]}


@pytest.mark.parametrize(
    ("doc", "schema"),
    [
        ({"instances": [{"a": [1]}, {"a": [1, 2]}]}, None),
        ({"instances": [{"a": 1, "b": 1}, {"a": 2}]}, None),
        ({"instances": {"a": [1, 2], "b": [1]}}, None),
        ({"instances": {"a": [1, 2], "b": 5}}, None),
        ({"instances": {"a": [1.0, 2.0], "b": [1.0]}}, TENSORS),
        ({"instances": [{"a": 1.0, "b": 1.0}, {"a": 2.0}]}, TENSORS),
    ],
    ids=["ragged", "uneven-rows", "unequal", "single", "tensors-unequal", "tensors-uneven"],
)
def test_instances_of_unequal_lengths_are_refused(doc: Any, schema: Schema | None) -> None:
    assert type(_refusal(doc, schema)) is PayloadError


def test_an_undeclared_key_is_not_counted_for_named_tensors() -> None:
    rows = [{"a": 1.0, "b": 1.0, "e": 1}, {"a": 2.0, "b": 2.0}]
    got = _decode({"instances": rows}, TENSORS)
    assert got["a"].tolist() == [1.0, 2.0] and got["b"].tolist() == [1.0, 2.0]


def test_inputs_of_named_tensors_are_not_counted() -> None:
    got = _decode({"inputs": {"a": [1.0, 2.0], "b": [1.0]}}, TENSORS)
    assert got["a"].tolist() == [1.0, 2.0] and got["b"].tolist() == [1.0]


def test_an_object_for_a_named_tensor_fails_its_cast() -> None:
    exc = _refusal({"inputs": {"a": [{"k": 1}], "b": [1.0]}}, TENSORS)
    assert type(exc) is PayloadError


# -- an int tensor reads integers written as text --------------------------------------------


@pytest.mark.parametrize(
    ("rows", "want"),
    [([["5", 1]], [[5, 1]]), ([[" 5", "1_000"]], [[5, 1000]]), ([["-7", 1]], [[-7, 1]])],
)
def test_an_int_tensor_reads_integer_text(rows: Any, want: Any) -> None:
    got = _decode({"inputs": rows}, INT_TENSOR)
    assert got.dtype == np.int64 and got.tolist() == want


@pytest.mark.parametrize("rows", [[["1.5", 1]], [["1e3", 1]], [[{"k": 1}, 1]]])
def test_other_text_in_an_int_tensor_fails_its_cast(rows: Any) -> None:
    exc = _refusal({"inputs": rows}, INT_TENSOR)
    assert type(exc) is PayloadError
    assert exc.reason == "'inputs' holds values that are not int64 numbers"


def test_a_fraction_beside_text_is_not_truncated() -> None:
    exc = _refusal({"inputs": [[1.5, "5"]]}, INT_TENSOR)
    assert type(exc) is SchemaMismatch and "a non-integer float" in str(exc)


def test_rows_of_objects_for_an_int_tensor_meet_its_enforcement() -> None:
    assert type(_refusal({"inputs": [{"k": 1}]}, INT_TENSOR)) is SchemaMismatch


# -- rows for several columns: cast whole as the first column's type -------------------------


def test_rows_with_text_for_a_first_double_column_fail_the_cast() -> None:
    schema = Schema([ColSpec("double", 0), ColSpec("string", 1)])
    exc = _refusal({"inputs": [[1, "x"]]}, schema)
    assert type(exc) is PayloadError and "casts whole as the first column's type" in exc.reason


@pytest.mark.parametrize("later", ["string", "long", "integer", "boolean", "datetime", "float"])
def test_floats_cast_from_rows_do_not_fit_a_later_column_of_another_type(later: str) -> None:
    exc = _refusal({"inputs": [[1, 2]]}, Schema([ColSpec("double", 0), ColSpec(later, 1)]))
    assert type(exc) is SchemaMismatch and "column '1'" in str(exc)


@pytest.mark.parametrize(
    ("first", "later"), [("double", "double"), ("float", "double"), ("float", "float")]
)
def test_floats_cast_from_rows_fit_a_later_float_column(first: str, later: str) -> None:
    frame = _decode({"inputs": [[1, 2]]}, Schema([ColSpec(first, 0), ColSpec(later, 1)]))
    assert frame.shape == (1, 2) and list(frame[1]) == [2.0]


def test_a_flat_list_for_an_array_first_is_cast_then_refused() -> None:
    schema = Schema([ColSpec(Array("double"), "a"), ColSpec("double", "x")])
    assert type(_refusal({"inputs": [1.5, 2.5]}, schema)) is SchemaMismatch
    assert type(_refusal({"inputs": ["x", 2.5]}, schema)) is not SchemaMismatch


# -- an unwrapped LLM body: single values and lists of text are one row -----------------------

TEMPERATURE = ParamSchema([ParamSpec("temperature", "double", 0.1)])


@pytest.mark.parametrize(
    ("doc", "want"),
    [
        ({"prompt": ["a", "b"], "temperature": 0.5}, [["a", "b"]]),
        ({"prompt": ["a", "b"], "extra": "q"}, [["a", "b"]]),
        ({"prompt": "a", "extra": [1, 2]}, ["a", "a"]),
        ({"prompt": ["a", 1]}, ["a", 1]),
    ],
    ids=["batch", "batch-undeclared-single", "repeated-by-undeclared-list", "mixed"],
)
def test_an_llm_body_is_one_row_of_single_values_and_texts(doc: Any, want: list[Any]) -> None:
    assert list(_decode(doc, PROMPT, TEMPERATURE)["prompt"]) == want


# -- an object of columns for an array or object signature: each declared value cast first ---

COMPLEX = Schema([ColSpec(Array("double"), "a"), ColSpec("double", "x")])


@pytest.mark.parametrize(
    "doc",
    [
        {"inputs": {"a": [[1.5], [2.5]], "x": 1.0}},
        {"inputs": {"a": ["x"], "x": 1.0}},
        {"inputs": {"a": [1.5], "x": "q"}},
        {"inputs": {"a": [1.5], "x": [1.0, "q"]}},
    ],
    ids=["nested-list-for-array", "text-in-array", "text-for-plain", "text-in-plain-list"],
)
def test_a_value_that_does_not_cast_to_its_column_is_the_bodys_mistake(doc: Any) -> None:
    assert type(_refusal(doc, COMPLEX)) is not SchemaMismatch


def test_values_that_cast_meet_the_one_row_enforcement() -> None:
    # the list for the plain column casts; the one row MLflow makes holds it: refused there
    assert type(_refusal({"inputs": {"a": [1.5], "x": [1.0, 2.0]}}, COMPLEX)) is SchemaMismatch
    assert _frame({"inputs": {"a": [1.5], "x": 1.0}}, COMPLEX)["x"] == [1.0]


def test_a_list_of_texts_for_a_single_any_column_is_one_row() -> None:
    schema = Schema([ColSpec(AnyType(), "z")])
    assert _frame({"inputs": ["a", "b"]}, schema) == {"z": [["a", "b"]]}
    assert _frame({"instances": ["a", "b"]}, schema) == {"z": [["a", "b"]]}
    assert _frame({"inputs": [1, 2]}, schema) == {"z": [1, 2]}


# -- rows of other keys are paired by position when every key has as many values -------------

AB_TEXT = Schema([ColSpec("double", "a"), ColSpec("string", "b")])


@pytest.mark.parametrize(
    ("rows", "want"),
    [
        ([{"a": 1.5, "b": "x"}, {}], {"a": [1.5], "b": ["x"]}),
        ([{"a": 1.5}, {"b": "x"}], {"a": [1.5], "b": ["x"]}),
        ([{"b": "x"}, {"a": 1.5}], {"a": [1.5], "b": ["x"]}),
        ([{"a": 1.5, "b": "x"}, {"a": 2.5}, {"b": "y"}], {"a": [1.5, 2.5], "b": ["x", "y"]}),
        ([{"a": 1.5, "b": "x"}, {"e": 1}], {"a": [1.5], "b": ["x"]}),
    ],
)
def test_rows_of_other_keys_are_paired_by_position(rows: Any, want: Any) -> None:
    assert _frame({"instances": rows}, AB_TEXT) == want


def test_a_value_that_does_not_cast_in_rows_of_other_keys_is_the_bodys_mistake() -> None:
    exc = _refusal({"instances": [{"a": "x"}, {"b": "x"}]}, AB_TEXT)
    assert type(exc) is PayloadError and "does not cast to float64" in exc.reason


@pytest.mark.parametrize(
    "doc",
    [
        {"inputs": {"a": 1.5, "b": "x", "e": [[1, 2], [3]]}},
        {"inputs": {"a": [1.5, 2.5], "b": ["x", "y"], "e": [1, [2]]}},
        {"instances": {"a": [1.5, 2.5], "b": ["x", "y"], "e": [[1], [2, 3]]}},
        {"inputs": {"a": [1.5, 2.5], "b": [["x"], ["y", "z"]]}},
    ],
    ids=["undeclared-ragged", "undeclared-mixed", "undeclared-ragged-instances", "text-ragged"],
)
def test_lists_that_numpy_cannot_stack_are_the_bodys_mistake(doc: Any) -> None:
    assert type(_refusal(doc, AB_TEXT)) is PayloadError


def test_lists_of_text_for_a_string_column_pass_as_objects() -> None:
    got = _frame({"inputs": {"a": [1.5, 2.5], "b": [["x"], ["y"]]}}, AB_TEXT)
    assert got == {"a": [1.5, 2.5], "b": [["x"], ["y"]]}
    # lists of numbers stay refused: MLflow would hand the model their text
    assert type(_refusal({"inputs": {"a": [1.5], "b": [[1]]}}, AB_TEXT)) is SchemaMismatch


def test_no_values_for_a_string_column_under_inputs_is_a_str_column() -> None:
    frame = _decode({"inputs": {"a": [], "b": []}}, AB_TEXT)
    assert len(frame) == 0 and isinstance(frame["b"].dtype, pd.StringDtype)


def test_ragged_rows_for_an_any_first_column_are_padded_as_pandas_pads_them() -> None:
    schema = Schema([ColSpec(AnyType(), 0), ColSpec("double", 1, required=False)])
    frame = _decode({"inputs": [[1, 2.5], [3]]}, schema)
    assert list(frame[0]) == [1, 3] and frame[1].iloc[0] == 2.5 and np.isnan(frame[1].iloc[1])
    # a named signature then lacks its columns: INVALID_PARAMETER_VALUE, not a cast failure
    assert type(_refusal({"inputs": [[1, 2], [3]]}, ANY_X)) is SchemaMismatch


@pytest.mark.parametrize(
    ("rows", "want"), [([[1.0, 2.0]], [[1, 2]]), ([[2.0, 3]], [[2, 3]]), ([["1", 2.0]], [[1, 2]])]
)
def test_whole_floats_for_an_int_tensor_are_cast(rows: Any, want: Any) -> None:
    got = _decode({"inputs": rows}, INT_TENSOR)
    assert got.dtype == np.int64 and got.tolist() == want


@pytest.mark.parametrize("rows", [[[1e20, 2.0]], [[float("inf"), 1.0]], [[-1e19, 1.0]]])
def test_floats_an_int_tensor_cannot_hold_fail_the_cast(rows: Any) -> None:
    assert type(_refusal({"inputs": rows}, INT_TENSOR)) is PayloadError


# -- an unwrapped LLM body meets MLflow's enforcement with the dtypes pandas infers ----------

LLM_COLUMNS = Schema(
    [
        ColSpec("string", "prompt"),
        ColSpec("double", "x", required=False),
        ColSpec("float", "f", required=False),
        ColSpec("long", "n", required=False),
        ColSpec("integer", "i", required=False),
        ColSpec("boolean", "b", required=False),
    ]
)


@pytest.mark.parametrize(
    "doc",
    [
        {"prompt": [1, 2]},
        {"prompt": 5},
        {"prompt": [1, None]},
        {"prompt": [True]},
        {"prompt": ["a", "b"], "x": [1, 2]},
        {"prompt": "a", "x": 3},
        {"prompt": "a", "f": 1.5},
        {"prompt": "a", "n": 1.0},
        {"prompt": "a", "i": 1},
        {"prompt": "a", "b": 1},
        {"prompt": ["a", "b"], "params": {"temperature": 0.5}},
        {"prompt": {"k": "a"}},
    ],
)
def test_llm_values_mlflow_enforcement_refuses(doc: Any) -> None:
    with pytest.raises(SchemaMismatch) as info:
        _decode(doc, LLM_COLUMNS, TEMPERATURE)
    assert type(info.value) is SchemaMismatch


@pytest.mark.parametrize(
    "doc",
    [
        {"prompt": [True, 1]},
        {"prompt": [None]},
        {"prompt": ["a", "b"], "x": [0, 1]},
        {"prompt": ["a", "b"], "x": [1, 2.5]},
        {"prompt": "a", "f": 1},
        {"prompt": "a", "n": 1},
        {"prompt": "a", "b": True},
        {"prompt": [["a"], ["b"]]},
    ],
)
def test_llm_values_mlflow_enforcement_takes(doc: Any) -> None:
    assert len(_decode(doc, LLM_COLUMNS, TEMPERATURE)) >= 1


def test_llm_lists_of_any_values_pass_a_string_column_uncast() -> None:
    # MLflow casts nothing in an unwrapped LLM body: its string column takes lists as objects
    frame = _decode({"prompt": [[1], [2]]}, PROMPT, TEMPERATURE)
    assert list(frame["prompt"]) == [[1], [2]]
    # under inputs, where MLflow casts them to text first, lists of numbers stay refused
    assert type(_refusal({"inputs": {"prompt": [[1], [2]]}}, PROMPT)) is SchemaMismatch


def test_objects_in_instances_rows_without_a_signature_are_0d_arrays() -> None:
    got = _decode({"instances": [{"a": {"k": 1}}, {"a": {"k": 2}}]}, None)["a"]
    assert got.dtype == object and [type(v) for v in got] == [np.ndarray, np.ndarray]
    assert [v.item() for v in got] == [{"k": 1}, {"k": 2}]
    assert type(_refusal({"instances": [{"a": {"k": 1}}, {"a": [1]}]}, None)) is PayloadError


def test_llm_text_among_numbers_for_a_double_is_read() -> None:
    # MLflow's enforcement reads an object column of numbers and numeric text for a double
    frame = _decode({"prompt": "hi", "x": [1.0, "0.5"]}, LLM_COLUMNS, TEMPERATURE)
    assert list(frame["x"]) == [1.0, 0.5]
    for alone in (["0.5"], "0.5", [1.0, "x"]):
        with pytest.raises(SchemaMismatch):
            _decode({"prompt": "hi", "x": alone}, LLM_COLUMNS, TEMPERATURE)
    with pytest.raises(SchemaMismatch):  # not for a long column
        _decode({"prompt": "hi", "n": [1, "2"]}, LLM_COLUMNS, TEMPERATURE)


def test_no_declared_column_sent_leaves_the_model_no_rows_and_no_columns() -> None:
    # every column optional, none sent: MLflow hands the model a 0 x 0 frame, whatever the
    # input format (checked over HTTP for inputs, rows, records and an LLM body)
    schema = Schema(
        [ColSpec("string", "prompt", required=False), ColSpec("double", "x", required=False)]
    )
    enforce = SchemaEnforcer(schema)
    for frame in (pd.DataFrame({"e": [1, 2]}), pd.DataFrame({"e": ["a"]})):
        out = enforce(frame)
        assert out.shape == (0, 0)
    assert enforce(pd.DataFrame({"x": [1.5], "e": [1]})).shape == (1, 1)

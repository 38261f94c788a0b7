"""Every accepted JSON request shape, per signature kind, and what it decodes to."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _codec_support import json_backend  # noqa: F401 (a fixture)

from mlserve.codecs import RequestDecoder, decode_request
from mlserve.errors import InvalidParams, MlserveError, SchemaMismatch
from mlserve.schema import (
    Array,
    ColSpec,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)

JSON = "application/json"
SEED_ROWS = [[0.1, -0.2, 0.3, -0.4], [0.5, 0.6, -0.7, 0.8]]
COLS_AB = Schema([ColSpec("double", "a"), ColSpec("string", "b")])
COLS_01 = Schema([ColSpec("double", 0), ColSpec("string", 1)])
COLS_AB_STR_DIGITS = Schema([ColSpec("double", "0"), ColSpec("string", "1")])
TENSOR_4 = Schema([TensorSpec(np.dtype("float64"), (-1, 4))])
NAMED_TENSORS = Schema(
    [TensorSpec(np.dtype("float32"), (-1, 2), "x"), TensorSpec(np.dtype("int32"), (-1,), "y")]
)


def _body(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _frame(data: dict[str, list[Any]]) -> pd.DataFrame:
    return pd.DataFrame(data)


# (payload, schema, expected) -- expected is a DataFrame, an ndarray or a dict of ndarrays
ACCEPTED = [
    pytest.param(
        {"dataframe_split": {"columns": [0, 1, 2, 3], "data": SEED_ROWS}},
        None,
        pd.DataFrame(SEED_ROWS, columns=[0, 1, 2, 3]),
        id="split-int-columns-no-signature",
    ),
    pytest.param(
        {"dataframe_split": {"columns": [0, 1, 2, 3], "data": SEED_ROWS}},
        TENSOR_4,
        np.array(SEED_ROWS),
        id="split-int-columns-tensor-signature",
    ),
    pytest.param(
        {"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"], [2.5, "y"]]}},
        COLS_AB,
        _frame({"a": [1.0, 2.5], "b": ["x", "y"]}),
        id="split-mixed-columns-signature",
    ),
    pytest.param(
        {"dataframe_split": {"columns": ["b", "a"], "data": [["x", 1]], "index": [7]}},
        COLS_AB,
        pd.DataFrame({"a": [1.0], "b": ["x"]}, index=[7]),
        id="split-reordered-with-index",
    ),
    pytest.param(
        {"dataframe_split": {"data": [[1, 2], [3, 4]]}},
        None,
        pd.DataFrame([[1, 2], [3, 4]]),
        id="split-without-columns",
    ),
    pytest.param(
        {"dataframe_split": {"columns": ["a", "b"], "data": []}},
        None,
        pd.DataFrame({"a": pd.Series([], dtype=object), "b": pd.Series([], dtype=object)}),
        id="split-zero-rows",
    ),
    pytest.param(
        {"dataframe_records": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]},
        None,
        _frame({"a": [1, 2], "b": ["x", "y"]}),
        id="records-no-signature",
    ),
    pytest.param(
        {"dataframe_records": [{"a": 1, "b": "x"}, {"b": "y"}]},
        Schema([ColSpec("double", "a", required=False), ColSpec("string", "b")]),
        _frame({"a": [1.0, np.nan], "b": ["x", "y"]}),
        id="records-missing-key-is-null",
    ),
    pytest.param(
        {"dataframe_records": [{"b": "x", "a": 3}]},
        COLS_AB,
        _frame({"a": [3.0], "b": ["x"]}),
        id="records-signature-order",
    ),
    pytest.param(
        {"instances": [[1, 2], [3, 4]]},
        None,
        np.array([[1, 2], [3, 4]]),
        id="instances-rows-no-signature",
    ),
    pytest.param(
        {"instances": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]},
        None,
        {"a": np.array([1, 2]), "b": np.array(["x", "y"])},
        id="instances-objects-no-signature",
    ),
    pytest.param(
        {"instances": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]},
        COLS_AB,
        _frame({"a": [1.0, 2.0], "b": ["x", "y"]}),
        id="instances-objects-column-signature",
    ),
    pytest.param(
        {"instances": [{"x": [1, 2], "y": 3}, {"x": [3, 4], "y": 5}]},
        NAMED_TENSORS,
        {"x": np.array([[1, 2], [3, 4]], "float32"), "y": np.array([3, 5], "int32")},
        id="instances-objects-named-tensors",
    ),
    pytest.param(
        {"inputs": SEED_ROWS},
        TENSOR_4,
        np.array(SEED_ROWS),
        id="inputs-tensor",
    ),
    pytest.param(
        {"inputs": [[1, 2, 3, 4]]},
        TENSOR_4,
        np.array([[1.0, 2.0, 3.0, 4.0]]),
        id="inputs-int-for-double-tensor",
    ),
    pytest.param(
        {"inputs": [[1, 2], [3, 4]]},
        None,
        np.array([[1, 2], [3, 4]]),
        id="inputs-tensor-no-signature",
    ),
    pytest.param(
        {"inputs": {"x": [[1, 2]], "y": [7]}},
        NAMED_TENSORS,
        {"x": np.array([[1, 2]], "float32"), "y": np.array([7], "int32")},
        id="inputs-named-tensors",
    ),
    pytest.param(
        {"inputs": {"a": [1, 2], "b": ["x", "y"]}},
        COLS_AB,
        _frame({"a": [1.0, 2.0], "b": ["x", "y"]}),
        id="inputs-columnar-dict",
    ),
    pytest.param(
        {"inputs": {"a": [1, 2], "b": ["x", "y"]}},
        None,
        {"a": np.array([1, 2]), "b": np.array(["x", "y"])},
        id="inputs-dict-no-signature",
    ),
    # rows are labelled by position, as MLflow's pd.DataFrame(rows): they meet the signature
    # MLflow writes for a frame without column names ("name": 0, 1), extra columns dropped
    pytest.param(
        {"inputs": [[1, 0.5, 9], [2, 1.5, 9]]},
        Schema([ColSpec("double", 0), ColSpec("double", 1)]),
        pd.DataFrame({0: [1.0, 2.0], 1: [0.5, 1.5]}),
        id="inputs-rows-integer-named-signature",
    ),
    pytest.param(
        {"dataframe_records": [[1, "x"], [2, "y"]]},
        COLS_01,
        pd.DataFrame({0: [1.0, 2.0], 1: ["x", "y"]}),
        id="records-rows-integer-named-signature",
    ),
    pytest.param(
        {"dataframe_records": [[1, 2.5], [2, 3.5]]},
        None,
        pd.DataFrame({0: [1, 2], 1: [2.5, 3.5]}),
        id="records-rows-no-signature",
    ),
    pytest.param(
        {"inputs": ["x", "y"]},
        Schema([ColSpec("string", "text")]),
        _frame({"text": ["x", "y"]}),
        id="inputs-flat-list-single-column",
    ),
    pytest.param(
        {"dataframe_split": {"columns": ["a"], "data": [[None], [1.5]]}},
        Schema([ColSpec("double", "a")]),
        _frame({"a": [np.nan, 1.5]}),
        id="null-in-double-column",
    ),
    pytest.param(
        {"dataframe_split": {"columns": ["n"], "data": [[1], [2]]}},
        Schema([ColSpec("integer", "n")]),
        pd.DataFrame({"n": np.array([1, 2], "int32")}),
        id="json-ints-narrowed-to-int32",
    ),
    pytest.param(
        {"dataframe_records": [{"blob": "aGVsbG8="}]},
        Schema([ColSpec("binary", "blob")]),
        pd.DataFrame({"blob": np.array([b"hello"], dtype=object)}),
        id="binary-from-base64",
    ),
]


def _assert_same(got: Any, expected: Any) -> None:
    if isinstance(expected, pd.DataFrame):
        assert isinstance(got, pd.DataFrame)
        pd.testing.assert_frame_equal(
            got, expected, check_column_type=False, check_index_type=False, check_dtype=False
        )
        for col in expected.columns:
            want, have = expected[col].dtype, got[col].dtype
            if want.kind in "biuf":  # numeric dtypes must match exactly, strings may be str/object
                assert have == want, (col, have, want)
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected)
        for k in expected:
            np.testing.assert_array_equal(got[k], expected[k])
            assert got[k].dtype.kind == expected[k].dtype.kind
            if expected[k].dtype.kind in "biuf":
                assert got[k].dtype == expected[k].dtype
    else:
        assert isinstance(got, np.ndarray)
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == expected.dtype


@pytest.mark.usefixtures("json_backend")
@pytest.mark.parametrize(("payload", "schema", "expected"), ACCEPTED)
def test_accepted_shapes(payload: Any, schema: Any, expected: Any) -> None:
    decoded = decode_request(_body(payload), JSON, schema)
    _assert_same(decoded.data, expected)
    assert decoded.params is None
    assert decoded.input_format == next(iter(payload))


def test_seed_example_predicts_like_the_bare_model(seed_model, seed_data) -> None:
    """The DESIGN.md curl body, decoded, gives exactly what model.predict gives on the numbers."""
    body = _body({"dataframe_split": {"columns": [0, 1, 2, 3], "data": SEED_ROWS}})
    data = RequestDecoder(TENSOR_4).decode(body, JSON).data
    np.testing.assert_array_equal(seed_model.predict(data), seed_model.predict(np.array(SEED_ROWS)))


def test_integer_column_names_are_kept_as_integers() -> None:
    body = _body({"dataframe_split": {"columns": [0, 1, 2, 3], "data": SEED_ROWS}})
    assert list(decode_request(body, JSON).data.columns) == [0, 1, 2, 3]


@pytest.mark.usefixtures("json_backend")
def test_mlflow_client_nan_literals_are_accepted() -> None:
    """MLflow's client uses json.dumps(allow_nan=True), so missing values arrive as NaN."""
    body = b'{"dataframe_split": {"columns": ["a"], "data": [[NaN], [Infinity], [1.0]]}}'
    frame = decode_request(body, JSON, Schema([ColSpec("double", "a")])).data
    assert frame["a"].isna().tolist() == [True, False, False]


PARAMS = ParamSchema([ParamSpec("k", "long", 3), ParamSpec("t", "double", 0.5)])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(None, {"k": 3, "t": 0.5}, id="absent-defaults"),
        pytest.param({"k": 5}, {"k": 5, "t": 0.5}, id="partial"),
        pytest.param({"k": 5, "t": 1}, {"k": 5, "t": 1.0}, id="int-for-double"),
        # as MLflow's server: names the signature does not declare are dropped (and logged)
        pytest.param({"k": 5, "nope": 1}, {"k": 5, "t": 0.5}, id="unknown-dropped"),
    ],
)
def test_params_filled_and_converted(params: Any, expected: dict[str, Any]) -> None:
    doc: dict[str, Any] = {"inputs": [[1.0, 2.0, 3.0, 4.0]]}
    if params is not None:
        doc["params"] = params
    assert RequestDecoder(TENSOR_4, PARAMS).decode(_body(doc), JSON).params == expected


def test_no_params_and_no_param_schema_gives_none() -> None:
    assert decode_request(_body({"inputs": [1]}), JSON).params is None


@pytest.mark.parametrize("params", [{"k": 1}, [1, 2], "k"], ids=["object", "list", "string"])
def test_params_for_a_model_that_declares_none_are_dropped(params: Any) -> None:
    # MLflow answers 200 and logs a warning; so do we (the model gets no params)
    assert not decode_request(_body({"inputs": [1], "params": params}), JSON).params


@pytest.mark.parametrize(
    ("params", "schema"),
    [
        pytest.param({"k": "many"}, PARAMS, id="wrong-type"),
        # MLflow refuses a float for a long param, integral or not (a long column converts 3.0)
        pytest.param({"k": 3.0}, PARAMS, id="integral-float-for-long"),
        pytest.param([1, 2], PARAMS, id="not-an-object"),
    ],
)
def test_bad_params(params: Any, schema: Any) -> None:
    body = _body({"inputs": [[1.0, 2.0, 3.0, 4.0]], "params": params})
    with pytest.raises(InvalidParams):
        RequestDecoder(TENSOR_4, schema).decode(body, JSON)


@pytest.mark.parametrize(
    ("payload", "schema"),
    [
        pytest.param(
            {"instances": [{"a": [1, 2, 3, 4]}]}, TENSOR_4, id="named-rows-for-unnamed-tensor"
        ),
        pytest.param({"inputs": [[1, 2]]}, NAMED_TENSORS, id="list-for-several-named-tensors"),
        pytest.param({"inputs": [[1, 2, 3]]}, COLS_AB, id="rows-wider-than-signature"),
        # rows are labelled 0..n-1 (MLflow's pd.DataFrame(rows)): a named signature lacks "a", "b"
        pytest.param({"inputs": [[1, 2], [2, 3]]}, COLS_AB, id="rows-for-named-columns"),
        pytest.param({"instances": [[1, 2]]}, COLS_AB, id="instances-rows-for-named-columns"),
        pytest.param({"dataframe_records": [[1, "x"]]}, COLS_AB, id="records-rows-named-columns"),
        pytest.param({"inputs": [[1, 2]]}, COLS_AB_STR_DIGITS, id="rows-for-names-0-1"),
        # ... and MLflow casts them whole as the first column's type: a float column then
        # reaches a column of text
        pytest.param({"inputs": [[1, 2]]}, COLS_01, id="rows-cast-as-floats-for-text"),
        # string labels are not the integer names 0, 1
        pytest.param(
            {"dataframe_records": [{"0": 1, "1": "x"}]}, COLS_01, id="records-string-keys"
        ),
        pytest.param({"inputs": {"0": [1], "1": ["x"]}}, COLS_01, id="inputs-object-string-keys"),
        pytest.param(
            {"dataframe_split": {"columns": ["0", "1"], "data": [[1, "x"]]}},
            COLS_01,
            id="split-string-labels-for-integer-names",
        ),
        pytest.param(
            {"dataframe_split": {"columns": [0, 1], "data": [[1, "x"]]}},
            COLS_AB_STR_DIGITS,
            id="split-integer-labels-for-names-0-1",
        ),
        # one column: MLflow reads the list as that column's values, so a row is a list
        pytest.param(
            {"inputs": [[0.1], [0.2]]}, Schema([ColSpec("double", "a")]), id="one-column-rows"
        ),
        pytest.param(
            {"inputs": [[0.1], [0.2]]}, Schema([ColSpec("double", 0)]), id="one-int-column-rows"
        ),
        # one value: pd.DataFrame([value]), one column labelled 0
        pytest.param({"inputs": 0.1}, Schema([ColSpec("double", "a")]), id="scalar-one-column"),
        pytest.param(
            {"dataframe_split": {"columns": ["a", "b"], "data": [["abc", "x"]]}},
            COLS_AB,
            id="string-for-double",
        ),
        pytest.param(
            {"dataframe_split": {"columns": ["n"], "data": [[1.5]]}},
            Schema([ColSpec("long", "n")]),
            id="fraction-for-long",
        ),
        pytest.param(
            {"dataframe_split": {"columns": ["n"], "data": [[3000000000]]}},
            Schema([ColSpec("integer", "n")]),
            id="int32-overflow",
        ),
        pytest.param(
            {"dataframe_split": {"columns": ["n"], "data": [[None]]}},
            Schema([ColSpec("long", "n")]),
            id="null-for-required-long",
        ),
        pytest.param({"dataframe_records": [{"b": "x"}]}, COLS_AB, id="missing-required-column"),
        pytest.param(  # found by schemathesis: positional names all dropped were a 500
            {"dataframe_split": {"data": [[1.0, 2.0]]}},
            COLS_AB,
            id="split-without-columns-for-named-signature",
        ),
        pytest.param(
            {"dataframe_records": [{"blob": "***"}]},
            Schema([ColSpec("binary", "blob")]),
            id="binary-not-base64",
        ),
        pytest.param(
            {"inputs": [[1.5, 2.5, 3.5, 4.5]]},
            Schema([TensorSpec(np.dtype("int64"), (-1, 4))]),
            id="float-for-int-tensor",
        ),
        pytest.param({"inputs": [1.0, 2.0, 3.0, 4.0]}, TENSOR_4, id="tensor-wrong-rank"),
    ],
)
def test_schema_mismatches(payload: Any, schema: Schema) -> None:
    with pytest.raises(SchemaMismatch) as info:
        decode_request(_body(payload), JSON, schema)
    assert "abc" not in info.value.message


def test_enforce_false_skips_the_enforcer() -> None:
    body = _body({"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, "x", 0]]}})
    data = RequestDecoder(COLS_AB, enforce=False).decode(body, JSON).data
    # "c" is not declared: the decoder leaves it out before typing anything; "x" for a double
    # is the enforcer's to refuse, and it did not run
    assert list(data.columns) == ["a", "b"]
    assert data["b"].tolist() == ["x"]


# MLflow's unwrapped LLM bodies (chat, completions, embeddings), read as such only when the
# column signature declares messages, prompt or input
CHAT = Schema(
    [
        ColSpec(
            Array(Object([Property("role", "string"), Property("content", "string")])), "messages"
        )
    ]
)
LLM_PARAMS = ParamSchema(
    [ParamSpec("temperature", "double", 0.5), ParamSpec("max_tokens", "long", 16)]
)
MESSAGES = [{"role": "user", "content": "hi"}]


def test_unwrapped_chat_body_splits_declared_params_from_data() -> None:
    body = _body({"messages": MESSAGES, "temperature": 0.2, "top_p": 0.9, "params": {"k": 1}})
    decoded = RequestDecoder(CHAT, LLM_PARAMS).decode(body, JSON)
    assert decoded.unwrapped and decoded.input_format == "llm"
    # one conversation is one row; keys that are neither declared params nor columns dropped
    assert list(decoded.data.columns) == ["messages"]
    assert [list(m) for m in decoded.data["messages"]] == [MESSAGES]
    assert decoded.params == {"temperature": 0.2, "max_tokens": 16}


@pytest.mark.parametrize(
    ("schema", "doc", "column"),
    [
        pytest.param(
            Schema([ColSpec("string", "prompt")]),
            {"prompt": "hi", "max_tokens": 3},
            "prompt",
            id="completions",
        ),
        pytest.param(
            Schema([ColSpec("string", "input")]), {"input": ["a", "b"]}, "input", id="embeddings"
        ),
    ],
)
def test_unwrapped_completions_and_embeddings(schema: Schema, doc: Any, column: str) -> None:
    decoded = RequestDecoder(schema, LLM_PARAMS).decode(_body(doc), JSON)
    # one row, a list of texts kept whole (a batch of inputs), as MLflow's enforcement makes it
    assert decoded.unwrapped and decoded.data[column].tolist() == [doc[column]]
    assert decoded.params == {"temperature": 0.5, "max_tokens": doc.get("max_tokens", 16)}


def test_unwrapped_body_value_errors_are_invalid_parameter_value() -> None:
    # MLflow enforces these bodies without casting them first: INVALID_PARAMETER_VALUE
    with pytest.raises(SchemaMismatch) as info:
        RequestDecoder(CHAT, LLM_PARAMS).decode(_body({"messages": "hi"}), JSON)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(InvalidParams):
        RequestDecoder(CHAT, LLM_PARAMS).decode(
            _body({"messages": MESSAGES, "max_tokens": "x"}), JSON
        )


@pytest.mark.parametrize("schema", [COLS_AB, TENSOR_4], ids=["columns", "tensor"])
def test_unwrapped_body_for_a_signature_without_llm_columns_is_refused(schema: Any) -> None:
    # MLflow reads it as an LLM body for every model; its enforcement then finds the columns
    # missing, or a dict where a tensor is expected: INVALID_PARAMETER_VALUE
    with pytest.raises(SchemaMismatch) as info:
        RequestDecoder(schema, None).decode(_body({"messages": MESSAGES}), JSON)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_unwrapped_body_fills_the_columns_a_signature_declares() -> None:
    # as MLflow: the keys that name declared columns are one row, the others are dropped
    decoded = RequestDecoder(COLS_AB, None).decode(_body({"input": "x", "a": 1, "b": "y"}), JSON)
    assert decoded.unwrapped
    assert decoded.data.to_dict("list") == {"a": [1.0], "b": ["y"]}


def test_unwrapped_body_reaches_a_model_without_signature_as_it_is() -> None:
    # MLflow hands such a model the body's dict (its declared params split off, none here)
    doc = {"prompt": "hi", "temperature": 0.1, "stop": ["\n"]}
    decoded = RequestDecoder(None, None).decode(_body(doc), JSON)
    assert decoded.unwrapped and decoded.data == doc
    assert decoded.params == {}


def test_wrapped_chat_body_is_answered_wrapped() -> None:
    body = _body({"inputs": {"messages": MESSAGES}})
    decoded = RequestDecoder(CHAT, LLM_PARAMS).decode(body, JSON)
    assert not decoded.unwrapped and decoded.input_format == "inputs"


@pytest.mark.parametrize(
    ("payload", "error_code"),
    [
        # MLflow enforces inputs and instances uncast: lists in a column of single values are
        # INVALID_PARAMETER_VALUE there; split and records fail its cast, BAD_REQUEST
        ({"inputs": {"a": [[1.5], [2]], "b": ["x", "y"]}}, "INVALID_PARAMETER_VALUE"),
        ({"instances": [{"a": [1.5], "b": "x"}]}, "INVALID_PARAMETER_VALUE"),
        ({"dataframe_records": [{"a": [1.5], "b": "x"}]}, "BAD_REQUEST"),
        ({"dataframe_split": {"columns": ["a", "b"], "data": [[[1.5], "x"]]}}, "BAD_REQUEST"),
    ],
    ids=["inputs", "instances", "records", "split"],
)
def test_lists_for_a_column_of_numbers(payload: Any, error_code: str) -> None:
    with pytest.raises(SchemaMismatch) as info:
        decode_request(_body(payload), JSON, COLS_AB)
    assert info.value.error_code == error_code and info.value.column == "a"


def test_inputs_as_a_list_of_objects_is_rows_of_named_values() -> None:
    # MLflow's _cast_schema_type reads a list of objects as records, for one column too
    rows = [{"a": 1.0, "b": "x"}, {"b": "y", "a": 2.0}]
    got = RequestDecoder(COLS_AB, None).decode(_body({"inputs": rows}), JSON).data
    assert got.to_dict("list") == {"a": [1.0, 2.0], "b": ["x", "y"]}
    maps = Schema([ColSpec(Map("double"), "m")])
    got = RequestDecoder(maps, None).decode(_body({"inputs": [{"m": {"k": 1.5}}]}), JSON).data
    assert got["m"].tolist() == [{"k": 1.5}]


COMPLEX = Schema([ColSpec(Array("double"), "a"), ColSpec("double", "x")])


@pytest.mark.parametrize(
    ("rows", "error_code"),
    [
        pytest.param([{"a": [1.5, 2.5], "x": 1.0}], "INVALID_PARAMETER_VALUE", id="rectangular"),
        pytest.param(
            [{"a": [1.5, 2.5], "x": 1.0}, {"a": [1.5], "x": 2.0}], "BAD_REQUEST", id="ragged"
        ),
    ],
)
def test_instances_rows_with_an_array_column_are_refused(rows: Any, error_code: str) -> None:
    # MLflow makes each key one numpy array: 2-D (refused by its enforcement) or ragged
    with pytest.raises(MlserveError) as info:
        RequestDecoder(COMPLEX, None).decode(_body({"instances": rows}), JSON)
    assert info.value.error_code == error_code
    # the same rows under inputs are read
    data = RequestDecoder(COMPLEX, None).decode(_body({"inputs": rows}), JSON).data
    assert len(data) == len(rows)


def test_array_values_under_inputs_are_ndarrays() -> None:
    # MLflow's inputs path gives np.array(value) for an array column (its _cast_schema_type);
    # dataframe_records and dataframe_split give lists
    row = {"a": [1.5, 2.5], "x": 1.0}
    decoder = RequestDecoder(COMPLEX, None)
    for body in ({"inputs": [row]}, {"inputs": row}):
        cell = decoder.decode(_body(body), JSON).data["a"][0]
        assert isinstance(cell, np.ndarray) and cell.dtype == np.float64
        assert cell.tolist() == [1.5, 2.5]
    cell = decoder.decode(_body({"dataframe_records": [row]}), JSON).data["a"][0]
    assert cell == [1.5, 2.5] and isinstance(cell, list)


def test_an_array_of_float_column_takes_no_json_numbers() -> None:
    # MLflow's server: [0, 1] passes its parse-time check as float64 values, which its predict
    # then refuses (INVALID_PARAMETER_VALUE); other numbers fail the first check (BAD_REQUEST)
    floats = Schema([ColSpec(Array("float"), "a")])
    decoder = RequestDecoder(floats, None)
    for cells, code in (([[0, 1]], "INVALID_PARAMETER_VALUE"), ([[0.5]], "BAD_REQUEST")):
        body = {"dataframe_split": {"columns": ["a"], "data": [[c] for c in cells]}}
        with pytest.raises(MlserveError) as info:
            decoder.decode(_body(body), JSON)
        assert info.value.error_code == code
    empty = decoder.decode(_body({"dataframe_records": [{"a": []}]}), JSON).data
    assert empty["a"].tolist() == [[]]

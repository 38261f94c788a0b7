"""The JSON Schemas of ``mlserve.codecs._json_schema`` agree with the decoder they describe.

For a one-column signature of each type, generated JSON values are sent through the decoder
(with the signature enforced, as a server request is) and checked against the documented value
schema: a value the decoder accepts is always valid in the document, and for the types JSON
Schema can say exactly (booleans, numbers, strings, lists and objects of them) a value valid in
the document is accepted.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlserve.codecs import RequestDecoder
from mlserve.codecs._json_body_schema import json_body_forms
from mlserve.codecs._json_schema import param_schema, tensor_schema, value_schema
from mlserve.errors import MlserveError
from mlserve.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["2024-01-02T03:04:05", "aGk=", "1.5", "true"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)

# types whose schema says exactly what the decoder takes (no format or encoding left unchecked)
EXACT = [
    DataType.boolean,
    DataType.string,
    Array(DataType.string),
    # MLflow's nested dtype rule: no JSON number is int32, no JSON string a nested datetime
    Array(DataType.integer),
    Array(DataType.datetime),
    Object([Property("role", DataType.string), Property("n", DataType.boolean, False)]),
    Map(DataType.string),
    AnyType(),
]
# types whose schema is looser than the decoder: a string of the right format, encoding or
# number syntax;
# nested numbers, where JSON Schema cannot tell 2 from 2.0 (a nested double takes no integer
# but 0 and 1, a nested long no float, a nested float only the integers 0 and 1)
LOOSE = [
    DataType.binary,
    DataType.datetime,
    # numbers written as text: Python's float()/int() decide which strings (MLflow's cast)
    DataType.integer,
    DataType.long,
    DataType.float,
    DataType.double,
    Array(DataType.long),
    Array(DataType.double),
    Array(DataType.float),
    Object([Property("role", DataType.string), Property("n", DataType.double, False)]),
    Map(DataType.double),
]


def _accepted(column_type: Any, value: Any, required: bool = True) -> bool:
    decoder = RequestDecoder(Schema([ColSpec(column_type, "x", required)]))
    body = json.dumps({"dataframe_records": [{"x": value}]}).encode()
    try:
        decoder.decode(body, "application/json")
    except MlserveError:
        return False
    return True


def _valid(schema: dict[str, Any], value: Any) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(value)


@pytest.mark.parametrize("column_type", EXACT + LOOSE, ids=repr)
@settings(max_examples=80, deadline=None)
@given(value=JSON_VALUES)
def test_what_the_decoder_accepts_the_schema_allows(column_type: Any, value: Any) -> None:
    if _accepted(column_type, value):
        assert _valid(value_schema(column_type), value), (column_type, value)


@pytest.mark.parametrize("column_type", EXACT, ids=repr)
@settings(max_examples=80, deadline=None)
@given(value=JSON_VALUES)
def test_what_the_schema_allows_the_decoder_accepts(column_type: Any, value: Any) -> None:
    if _valid(value_schema(column_type), value):
        assert _accepted(column_type, value), (column_type, value)


@pytest.mark.parametrize("column_type", [DataType.long, DataType.boolean], ids=repr)
def test_an_optional_column_also_takes_null(column_type: Any) -> None:
    assert not _valid(value_schema(column_type), None)
    assert _valid(value_schema(column_type, nullable=True), None)
    assert _accepted(column_type, None, required=False)


def test_a_tensor_is_nested_arrays_of_its_shape_and_dtype() -> None:
    spec = TensorSpec(np.dtype("float32"), (-1, 2, 3))
    schema = tensor_schema(spec)
    assert _valid(schema, [[[1, 2, 3], [4, 5, 6]]])
    assert not _valid(schema, [[[1, 2, 3]]])  # the second dimension is 2
    assert not _valid(schema, [[[1, 2, "x"], [4, 5, 6]]])
    assert _valid(tensor_schema(spec, batch=False), [[1, 2, 3], [4, 5, 6]])
    assert tensor_schema(TensorSpec(np.dtype("uint8"), (-1,)))["items"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 255,
    }


def test_params_carry_their_type_shape_and_default() -> None:
    assert param_schema(ParamSpec("k", "long", 3)) == {
        "type": "integer",
        "minimum": -(2**63),
        "maximum": 2**63 - 1,
        "default": 3,
    }
    assert param_schema(ParamSpec("ids", "double", [1.0], shape=(-1,))) == {
        "type": "array",
        "items": {"type": "number"},
        "default": [1.0],
    }
    assert "default" not in param_schema(ParamSpec("t", "string", None))


def test_the_body_forms_of_a_plan() -> None:
    schema = Schema([ColSpec("double", "a"), ColSpec("string", "b", required=False)])
    params = ParamSchema([ParamSpec("k", "long", 1)])
    forms = json_body_forms(RequestDecoder(schema, params).plan)
    assert list(forms) == ["dataframe_split", "dataframe_records", "instances", "inputs"]
    records = {"dataframe_records": [{"a": 1.0}], "params": {"k": 2}}
    assert _valid(forms["dataframe_records"], records)
    assert not _valid(forms["dataframe_records"], {"dataframe_records": [{"b": "x"}]})
    assert not _valid(forms["instances"], {"instances": [[1.0, "x", 3]]})  # one value too many
    assert _valid(forms["inputs"], {"inputs": {"a": [1.0, 2.0], "b": ["x", None]}})
    chat = Schema([ColSpec(Array(DataType.string), "messages")])
    assert "llm" in json_body_forms(RequestDecoder(chat).plan)


NAMED_AB = Schema([ColSpec("double", "a"), ColSpec("double", "b")])
INT_01 = Schema([ColSpec("double", 0), ColSpec("double", 1)])
ONE_A = Schema([ColSpec("double", "a")])
MAP_M = Schema([ColSpec(Map(DataType.double), "m")])
ARRAY_X = Schema([ColSpec(Array(DataType.double), "a"), ColSpec("double", "x")])
ANY_Z = Schema([ColSpec(AnyType(), "z")])
ROWS_AND_LABELS = [
    # a list of objects under inputs is rows of named values (MLflow's _cast_schema_type)
    ("inputs-records", NAMED_AB, {"inputs": [{"a": 1.0, "b": 2.0}]}),
    ("inputs-records-one-map-column", MAP_M, {"inputs": [{"m": {"k": 1.5}}]}),
    ("inputs-records-array-column", ARRAY_X, {"inputs": [{"a": [1.5], "x": 1.0}]}),
    # ... and under instances MLflow refuses them when a column holds arrays or objects
    ("instances-records-array-column", ARRAY_X, {"instances": [{"a": [1.5], "x": 1.0}]}),
    ("instances-records-one-map-column", MAP_M, {"instances": [{"m": {"k": 1.5}}]}),
    # rows are MLflow's pd.DataFrame(rows), labelled 0..n-1
    ("rows-named", NAMED_AB, {"inputs": [[1.0, 2.0]]}),
    ("rows-int-named", INT_01, {"inputs": [[1.0, 2.0]]}),
    ("rows-int-named-wider", INT_01, {"instances": [[1.0, 2.0, 3.0]]}),
    ("records-rows-named", NAMED_AB, {"dataframe_records": [[1.0, 2.0]]}),
    ("records-rows-int-named", INT_01, {"dataframe_records": [[1.0, 2.0]]}),
    ("one-column-list", ONE_A, {"inputs": [1.0, 2.0]}),
    ("one-column-rows", ONE_A, {"inputs": [[1.0], [2.0]]}),
    # labels match names by value and type: JSON keys are strings
    ("records-int-named", INT_01, {"dataframe_records": [{"0": 1.0, "1": 2.0}]}),
    ("columnar-int-named", INT_01, {"inputs": {"0": [1.0], "1": [2.0]}}),
    # an object of columns: a single value repeated down the lists' rows (pd.DataFrame(dict))
    ("columnar-repeated", NAMED_AB, {"inputs": {"a": [1.0, 2.0], "b": 3.0}}),
    ("columnar-single-values", NAMED_AB, {"inputs": {"a": 1.0, "b": 3.0}}),
    # ... where a map column takes neither a list nor an object
    ("columnar-map-list", MAP_M, {"inputs": {"m": [{"k": 1.5}]}}),
    ("columnar-map-object", MAP_M, {"inputs": {"m": {"k": 1.5}}}),
    ("columnar-any-object", ANY_Z, {"inputs": {"z": {"k": 1.5}}}),
    ("columnar-any-list", ANY_Z, {"inputs": {"z": [1, 2]}}),
    ("split-int-labels", INT_01, {"dataframe_split": {"columns": [0, 1], "data": [[1.0, 2.0]]}}),
    (
        "split-string-labels",
        INT_01,
        {"dataframe_split": {"columns": ["0", "1"], "data": [[1.0, 2.0]]}},
    ),
]


@pytest.mark.parametrize(
    ("schema", "body"), [c[1:] for c in ROWS_AND_LABELS], ids=[c[0] for c in ROWS_AND_LABELS]
)
def test_rows_and_labels_the_schema_allows_are_what_the_decoder_accepts(
    schema: Schema, body: dict[str, Any]
) -> None:
    decoder = RequestDecoder(schema)
    forms = json_body_forms(decoder.plan)
    try:
        decoder.decode(json.dumps(body).encode(), "application/json")
    except MlserveError:
        accepted = False
    else:
        accepted = True
    form = forms.get(next(iter(body)))  # absent: no body of that key is accepted
    assert (form is not None and _valid(form, body)) is accepted


FLOAT32_EDGE = [
    3.4028234663852886e38,  # float32's max
    3.4028235677973362e38,  # the last float64 that still rounds to it
    3.4028235677973366e38,  # the first that rounds past it (the decoder refuses it)
    -3.4028235677973366e38,
    1e300,
]


@pytest.mark.parametrize("value", FLOAT32_EDGE, ids=repr)
@pytest.mark.parametrize("column_type", [DataType.float, Array(DataType.float)], ids=repr)
def test_float32_range_edge_is_the_decoders(column_type: Any, value: float) -> None:
    """The schema's float bounds are where the decoder's float32 cast overflows, exactly."""
    assert _valid(value_schema(column_type), value) == _accepted(column_type, value)


@pytest.mark.parametrize("column_type", [DataType.string, DataType.datetime], ids=repr)
def test_a_required_string_or_datetime_column_takes_null(column_type: Any) -> None:
    # MLflow passes the null to the model (NaN, NaT), and so does the decoder
    assert _valid(value_schema(column_type), None)
    # inside an array MLflow's Series of the items decides: None among datetimes, refused
    # among a required column's strings
    assert _valid(value_schema(Array(column_type)), [None]) is (column_type is DataType.datetime)
    assert _accepted(Array(column_type), [None]) is (column_type is DataType.datetime)

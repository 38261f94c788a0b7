"""One rule per column, two paths: a value decoded from a request body and the same value in a
DataFrame given to ``load_model(...).predict`` get the same answer (type and message), because
both are judged by the column's :class:`~mlserve.schema._rules.ColumnRule`."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlserve.codecs import RequestDecoder
from mlserve.errors import InvalidColumnValue, MlserveError, PayloadError, SchemaMismatch
from mlserve.schema import ColSpec, DataType, Schema, SchemaEnforcer, TensorSpec
from mlserve.schema._rules import ColumnRule, infer_values, rule_for

# (id, declared type, one column's values, what the message says was found)
SAME_MISTAKE = [
    ("integer-out-of-range", "integer", [2**40], "an integer out of range for integer"),
    ("long-out-of-range", "long", [1, 2**64], "an integer out of range for long"),
    ("double-past-float64", "double", [10**400], "a number out of range for double"),
    ("boolean-for-double", "double", [True], "a boolean"),
    ("boolean-for-long", "long", [False], "a boolean"),
    ("datetime-now", "datetime", ["2024-01-01", " Now"], "'now' or 'today'"),
    ("datetime-not-iso", "datetime", ["yesterday at 5"], "a string that is not an ISO 8601"),
    # a number written as text is read on both paths (MLflow's server casts it); other text not
    ("string-for-double", "double", ["1,5"], "a string"),
    ("string-for-long", "long", ["1.5"], "a string"),
    ("null-for-long", "long", [None], "null"),
]


def _in_process(schema: Schema, values: list[Any]) -> MlserveError:
    frame = pd.DataFrame({"c": pd.Series(values, dtype=object)}).infer_objects()
    with pytest.raises(MlserveError) as info:
        SchemaEnforcer(schema)(frame)
    return info.value


def _over_the_wire(schema: Schema, values: list[Any]) -> MlserveError:
    body = json.dumps({"dataframe_records": [{"c": v} for v in values]}).encode()
    with pytest.raises(MlserveError) as info:
        RequestDecoder(schema).decode(body, "application/json")
    return info.value


@pytest.mark.parametrize(
    ("type_", "values", "found"),
    [row[1:] for row in SAME_MISTAKE],
    ids=[row[0] for row in SAME_MISTAKE],
)
def test_one_mistake_gets_one_answer_on_both_paths(type_: str, values: list, found: str) -> None:
    schema = Schema([ColSpec(type_, "c")])
    wire, local = _over_the_wire(schema, values), _in_process(schema, values)
    assert type(wire) is type(local) is InvalidColumnValue
    assert str(wire) == str(local)
    assert f"column 'c': expected {type_}, found {found}" in str(wire)


@pytest.mark.parametrize(
    ("type_", "values", "expected"),
    [
        ("double", ["1.5", 2, " 1e5 ", "1_000"], [1.5, 2.0, 1e5, 1000.0]),
        ("float", ["0.5"], [0.5]),
        ("long", ["3", 4, " -5 "], [3, 4, -5]),
        ("integer", ["7"], [7]),
    ],
)
def test_numbers_written_as_text_are_read_on_both_paths(
    type_: str, values: list, expected: list
) -> None:
    # MLflow's server casts a JSON column with numpy, which reads text as float()/int() do
    schema = Schema([ColSpec(type_, "c")])
    body = json.dumps({"dataframe_split": {"columns": ["c"], "data": [[v] for v in values]}})
    wire = RequestDecoder(schema).decode(body.encode(), "application/json").data["c"]
    frame = pd.DataFrame({"c": pd.Series(values, dtype=object)})
    local = SchemaEnforcer(schema)(frame)["c"]
    assert wire.tolist() == local.tolist() == expected
    assert wire.dtype == local.dtype == DataType.parse(type_).to_numpy()


def test_rule_of_a_column_and_of_a_tensor() -> None:
    column = rule_for(ColSpec("integer", 0))
    assert (column.kind, column.dtype, column.name, column.required) == (
        "int",
        np.dtype("int32"),
        "0",
        True,
    )
    assert column.expected == "integer"
    tensor = rule_for(TensorSpec(np.dtype("float32"), (-1, 2)))
    assert (tensor.kind, tensor.name, tensor.type, tensor.expected) == (
        "float",
        None,
        None,
        "float32 values",
    )
    # an unnamed input's overflow is the plain mismatch (INVALID_PARAMETER_VALUE), as MLflow's
    with pytest.raises(SchemaMismatch, match="a number out of range"):
        tensor.type_values([1e39])
    assert rule_for(ColSpec("long", "n", required=False)).required is False


def test_datetimes_reach_the_model_in_nanoseconds_on_both_paths() -> None:
    rule = rule_for(ColSpec("datetime", "t"))
    decoded = rule.type_values(["2024-01-02T03:04:05", None])
    in_process = SchemaEnforcer(Schema([ColSpec("datetime", "t", required=False)]))(
        pd.DataFrame({"t": ["2024-01-02T03:04:05", None]})
    )
    assert decoded.unit == in_process["t"].array.unit == "ns"
    assert list(decoded) == list(in_process["t"])


def test_offset_datetimes_get_one_refusal_on_both_paths() -> None:
    # the decoding step parses them (one instant each, as MLflow's server does); the
    # enforcer refuses the time-zone-aware column, as MLflow's enforcement does
    enforcer = SchemaEnforcer(Schema([ColSpec("datetime", "t", required=False)]))
    values = ["2024-01-02T03:04:05Z", None]
    decoded = rule_for(ColSpec("datetime", "t")).type_values(values)
    with pytest.raises(SchemaMismatch) as wire:
        enforcer(pd.DataFrame({"t": decoded}))
    with pytest.raises(SchemaMismatch) as local:
        enforcer(pd.DataFrame({"t": values}))
    assert wire.value.message == local.value.message
    assert wire.value.error_code == local.value.error_code == "INVALID_PARAMETER_VALUE"


def test_type_values_keeps_what_it_cannot_judge_for_the_enforcer() -> None:
    # a string in a long column is not this step's to refuse: the enforcer names it
    out = ColumnRule("int", np.dtype("int64"), "n").type_values(["x"])
    assert list(out) == ["x"]


@pytest.mark.parametrize(
    ("names", "fragment"),
    [
        ("abcd", "required columns 'a', 'b', 'c', 'd', found them missing"),
        # rows are labelled 0..n-1, as MLflow's pd.DataFrame(rows): column 3 is missing
        ((0, 1, 2, 3), "required column '3', found it missing"),
        ((None,) * 4, "expected 4 columns, found 3 columns"),
    ],
    ids=["named", "integer-named", "unnamed"],
)
def test_rows_get_one_answer_on_both_paths(names, fragment) -> None:
    schema = Schema([ColSpec("double", n) for n in names])
    with pytest.raises(SchemaMismatch) as local:
        SchemaEnforcer(schema)([[1.0, 2.0, 3.0]])
    with pytest.raises(SchemaMismatch) as wire:
        RequestDecoder(schema).decode(b'{"inputs": [[1.0, 2.0, 3.0]]}', "application/json")
    assert str(local.value) == str(wire.value)
    assert fragment in str(wire.value)


def test_integer_range_is_inclusive_at_both_ends() -> None:
    rule = rule_for(ColSpec("integer", "n"))
    edges = np.array([-(2**31), 2**31 - 1])
    assert rule.narrow_int(edges).dtype == np.dtype("int32")
    for outside in (2**31, -(2**31) - 1):
        with pytest.raises(InvalidColumnValue, match="out of range for integer"):
            rule.narrow_int(np.array([0, outside]))


def test_binary_values_on_the_decoding_path() -> None:
    rule = rule_for(ColSpec("binary", "blob"))
    # MLflow's client wraps base64 at 76 columns (base64.encodebytes)
    wrapped = "QUJD\nREVG\n"
    assert list(rule.type_values([wrapped, None])) == [b"ABCDEF", None]
    # a number is not this step's to refuse: it is kept for the enforcer to name
    assert list(rule.type_values([b"x", 3])) == [b"x", 3]
    with pytest.raises(InvalidColumnValue, match="expected binary, found an integer"):
        SchemaEnforcer(Schema([ColSpec("binary", "blob")]))(
            pd.DataFrame({"blob": rule.type_values([3])})
        )


def test_datetime_nulls_among_strings_are_parsed_as_missing() -> None:
    rule = rule_for(ColSpec("datetime", "t", required=False))
    out = rule.type_values(["2024-01-01", None, float("nan")])
    assert out.unit == "ns" and list(pd.isna(out)) == [False, True, True]
    # a number among the strings is left to the enforcer (pandas would read it as a year)
    assert list(rule.type_values(["2024-01-01", 1370])) == ["2024-01-01", 1370]


@pytest.mark.parametrize(
    ("dtype", "kind"),
    [("float32", "float"), ("int8", "int"), ("uint16", "int"), ("bool", "bool"),
     ("<U3", "string"), ("S3", "binary"), ("datetime64[ns]", "datetime"), ("complex64", "any")],
)  # fmt: skip
def test_rule_of_a_tensor_follows_its_dtype(dtype: str, kind: str) -> None:
    rule = rule_for(TensorSpec(np.dtype(dtype), (-1,), "x"))
    assert (rule.kind, rule.name) == (kind, "x")
    assert rule.dtype == (np.dtype(dtype) if kind in ("float", "int") else None)


def test_complex_columns_keep_one_python_object_per_row() -> None:
    from mlserve.schema import Array

    rule = rule_for(ColSpec(Array("long"), "ids", required=False))
    assert (rule.kind, rule.type, rule.required) == ("object", None, False)
    out = rule.type_values([[1, 2], [3, 4]])  # equal lengths: still not a 2-D array
    assert out.shape == (2,) and out.dtype == object and out[0] == [1, 2]


@pytest.mark.parametrize(
    ("spec", "values", "error", "message"),
    [
        (
            TensorSpec(np.dtype("float32"), (-1,)),
            [1e39],
            SchemaMismatch,
            "Schema mismatch for input: expected float32 values, found a number out of range.",
        ),
        (
            TensorSpec(np.dtype("int32"), (-1,)),
            [2**40],
            InvalidColumnValue,
            "Schema mismatch for input: expected int32 values, found an integer out of range.",
        ),
        (
            TensorSpec(np.dtype("int8"), (-1,), "x"),
            [300],
            InvalidColumnValue,
            "Schema mismatch for column 'x': expected int8 values, found an integer out of range.",
        ),
        (
            ColSpec("float", "f"),
            [1e39],
            InvalidColumnValue,
            "Schema mismatch for column 'f': expected float, found a number out of range for "
            "float.",
        ),
        (
            ColSpec("integer", "i"),
            [2**40],
            InvalidColumnValue,
            "Schema mismatch for column 'i': expected integer, found an integer out of range "
            "for integer.",
        ),
    ],
    ids=["unnamed-float-tensor", "unnamed-int-tensor", "named-int-tensor", "float", "integer"],
)
def test_out_of_range_words(spec: Any, values: list[Any], error: type, message: str) -> None:
    """A tensor has no DataType to name: its out-of-range errors say the dtype and no suffix;
    a column's say the type in both places."""
    with pytest.raises(error) as info:
        rule_for(spec).type_values(values)
    assert type(info.value) is error
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("values", "kind", "dtype", "expected"),
    [
        ([1, 2], np.ndarray, np.dtype("int64"), [1, 2]),
        ([True, False], np.ndarray, np.dtype("bool"), [True, False]),
        ([1.5, 2], np.ndarray, np.dtype("float64"), [1.5, 2.0]),
        ([1.5, None], None, np.dtype("float64"), [1.5, None]),
        (["a", "b"], None, pd.Series(["a"]).dtype, ["a", "b"]),
        (["a", 1], None, np.dtype(object), ["a", 1]),
        ([1, "a"], None, np.dtype(object), [1, "a"]),
        ([[1, 2], [3, 4]], None, np.dtype(object), [[1, 2], [3, 4]]),
        ([], None, np.dtype(object), []),
    ],
    ids=[
        "ints",
        "bools",
        "floats",
        "float-and-null",
        "strings",
        "mixed",
        "number-first-mixed",
        "lists",
        "empty",
    ],
)
def test_infer_values_types_as_pandas_does(
    values: list[Any], kind: type | None, dtype: Any, expected: list[Any]
) -> None:
    """Numbers alone come straight out of numpy (an ndarray); anything else is typed as a
    frame built from the rows would type it."""
    out = infer_values(values)
    if kind is not None:
        assert type(out) is kind
    else:
        assert not isinstance(out, np.ndarray)
    assert pd.Series(out).dtype == dtype
    assert [None if v is None or v != v else v for v in list(out)] == [
        None if v is None else v for v in expected
    ]
    assert pd.Series(values, dtype=None if values else object).dtype == dtype


def test_a_lone_surrogate_is_a_payload_error() -> None:
    with pytest.raises(PayloadError) as info:
        infer_values(["a", "\ud800"])
    assert str(info.value).endswith(
        "a string holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not "
        "valid Unicode text"
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1, None], [1.0, None]), ([1, None, "a"], None), ([b"x", None], None), ([2**70], [2.0**70])],
    ids=["int-and-null", "string-among-nulls", "bytes-among-nulls", "huge-int"],
)
def test_as_float_numbers_and_nulls_only(values: list[Any], expected: list[Any] | None) -> None:
    out = ColumnRule("float", np.dtype("float64"), "x").as_float(values)
    if expected is None:
        assert out is None
    else:
        assert out is not None and out.dtype == np.dtype("float64")
        assert [None if v != v else v for v in out.tolist()] == expected


def test_binary_and_datetime_words_over_http() -> None:
    decoder = RequestDecoder(Schema([ColSpec("binary", "b"), ColSpec("datetime", "t")]))
    body = {"dataframe_records": [{"b": "a!", "t": "2024-01-01"}]}
    with pytest.raises(InvalidColumnValue) as info:
        decoder.decode(json.dumps(body).encode(), "application/json")
    assert str(info.value) == (
        "Schema mismatch for column 'b': expected binary (a base64 string), found a string "
        "that is not base64."
    )
    body = {"dataframe_records": [{"b": "YWI=", "t": "1500-01-01"}]}
    with pytest.raises(InvalidColumnValue) as info:
        decoder.decode(json.dumps(body).encode(), "application/json")
    assert str(info.value) == (
        "Schema mismatch for column 't': expected datetime, found a datetime outside the "
        "nanosecond range (years 1677-2262)."
    )


def test_decoded_columns_are_typed_by_the_rule() -> None:
    # an integer column narrows on decoding (range-checked), not later
    assert rule_for(ColSpec("integer", "i")).type_values([1, 2]).dtype == np.dtype("int32")
    # an array a codec read (CSV's objects) is base64-decoded; bytes arrays are kept as they are
    binary = rule_for(ColSpec("binary", "b"))
    assert list(binary.type_values(np.array(["YWI="], dtype=object))) == [b"ab"]
    raw = np.array([b"ab"], dtype="S2")
    assert binary.type_values(raw) is raw
    # an integer array for a double column becomes doubles
    floats = rule_for(ColSpec("double", "d")).as_float(np.array([1, 2]))
    assert floats is not None and floats.dtype == np.dtype("float64")
    # a string number among nulls is not a number here, as the enforcer judges it in process
    assert rule_for(ColSpec("double", "d")).as_float([1, None, "1.0"]) is None


def test_a_number_among_datetime_strings_is_left_for_the_enforcer_to_name() -> None:
    decoder = RequestDecoder(Schema([ColSpec("datetime", "t")]))
    body = {"dataframe_records": [{"t": "2024-01-01"}, {"t": 1.5}]}
    with pytest.raises(InvalidColumnValue) as info:
        decoder.decode(json.dumps(body).encode(), "application/json")
    assert str(info.value).endswith("expected datetime, found values of mixed types.")

"""Enforcement rules, one parametrized row per rule (docs/signatures.md has the same table)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mlserve.errors import InvalidColumnValue, SchemaMismatch
from mlserve.schema import ColSpec, DataType, Schema, SchemaEnforcer, TensorSpec, enforce_schema


def _one(type_: str, values, dtype=None, required: bool = True):
    enforcer = SchemaEnforcer(Schema([ColSpec(type_, "c", required=required)]))
    frame = pd.DataFrame({"c": pd.Series(values, dtype=dtype)})
    return enforcer, frame


# (id, declared type, values, input dtype, required, output dtype, output values)
SILENT = [
    ("long<-int64", "long", [1, 2], "int64", True, "int64", [1, 2]),
    ("long<-int32", "long", [1, 2], "int32", True, "int64", [1, 2]),
    ("long<-uint8", "long", [1, 2], "uint8", True, "int64", [1, 2]),
    ("long<-integral-float", "long", [1.0, -2.0], "float64", True, "int64", [1, -2]),
    ("long<-object-ints", "long", [1, 2**40], object, True, "int64", [1, 2**40]),
    ("long<-object-int-and-float", "long", [1, 2.0], object, True, "int64", [1, 2]),
    ("long<-Int64", "long", [1, 2], "Int64", True, "int64", [1, 2]),
    ("optional-long<-null", "long", [1.0, None], "float64", False, "Int64", [1, pd.NA]),
    ("optional-long<-Int64-NA", "long", [1, None], "Int64", False, "Int64", [1, pd.NA]),
    ("integer<-int64-in-range", "integer", [1, -(2**31)], "int64", True, "int32", [1, -(2**31)]),
    ("double<-int64", "double", [1, 2], "int64", True, "float64", [1.0, 2.0]),
    ("double<-int32", "double", [1, 2], "int32", True, "float64", [1.0, 2.0]),
    ("double<-float32", "double", [0.5], "float32", True, "float64", [0.5]),
    ("double<-NaN-required", "double", [1.0, np.nan], "float64", True, "float64", [1.0, np.nan]),
    ("double<-object-numbers", "double", [1, 2.5, None], object, True, "float64", [1, 2.5, np.nan]),
    ("double<-Float64-NA", "double", [1.5, None], "Float64", True, "float64", [1.5, np.nan]),
    ("double<-Int64", "double", [1, 2], "Int64", True, "float64", [1.0, 2.0]),
    ("float<-float64", "float", [0.5, 2.0], "float64", True, "float32", [0.5, 2.0]),
    ("float<-int64", "float", [3], "int64", True, "float32", [3.0]),
    ("boolean<-bool", "boolean", [True, False], "bool", True, "bool", [True, False]),
    ("boolean<-object-bools", "boolean", [True, False], object, True, "bool", [True, False]),
    ("optional-boolean<-null", "boolean", [True, None], object, False, "boolean", [True, pd.NA]),
    ("string<-str", "string", ["a", "b"], "str", True, "str", ["a", "b"]),
    ("string<-object", "string", ["a", "b"], object, True, "object", ["a", "b"]),
    ("optional-string<-null", "string", ["a", None], object, False, "object", ["a", None]),
    # a null in a required string or datetime column reaches the model, as MLflow passes it
    ("string<-null", "string", ["a", None], object, True, "object", ["a", None]),
    ("string<-str-null", "string", ["a", None], "str", True, "str", ["a", np.nan]),
    ("string<-all-null", "string", [None, None], object, True, "object", [None, None]),
    # MLflow hands a string column of Python objects on as it is: a number the client sent
    # stays that number (a numeric dtype column is refused, below)
    ("string<-mixed", "string", [1, "a"], object, True, "object", [1, "a"]),
    ("string<-bytes", "string", [b"a"], object, True, "object", [b"a"]),
    (
        "datetime<-NaT",
        "datetime",
        [None, "2024-01-01"],
        "datetime64[ns]",
        True,
        "datetime64[ns]",
        [pd.NaT, pd.Timestamp("2024-01-01")],
    ),
    (
        "datetime<-iso-strings-and-null",
        "datetime",
        ["2024-01-01", None],
        object,
        True,
        "datetime64[ns]",
        [pd.Timestamp("2024-01-01"), pd.NaT],
    ),
    (
        "datetime<-one-format-with-fractions",
        "datetime",
        ["2024-01-01T10:00:00.5", "2024-01-01T10:00:00.25"],
        object,
        True,
        "datetime64[ns]",
        [pd.Timestamp("2024-01-01T10:00:00.5"), pd.Timestamp("2024-01-01T10:00:00.25")],
    ),
    ("string<-category", "string", ["a", "b"], "category", True, "category", ["a", "b"]),
    ("binary<-bytes", "binary", [b"a", b"\x00"], object, True, "object", [b"a", b"\x00"]),
    (
        "datetime<-datetime64",
        "datetime",
        ["2024-01-01", "2024-02-01"],
        "datetime64[ns]",
        True,
        "datetime64[ns]",
        [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")],
    ),
    (
        "datetime<-iso-strings",
        "datetime",
        ["2024-01-01T00:00:00", "2024-01-02T03:04:05"],
        "str",
        True,
        None,
        [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02T03:04:05")],
    ),
    (
        "datetime<-python-datetimes",
        "datetime",
        [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)],
        object,
        True,
        None,
        [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02")],
    ),
]


@pytest.mark.parametrize(
    ("type_", "values", "dtype", "required", "out_dtype", "expected"),
    [row[1:] for row in SILENT],
    ids=[row[0] for row in SILENT],
)
def test_silent_conversion(type_, values, dtype, required, out_dtype, expected):
    enforcer, frame = _one(type_, values, dtype, required)
    before = frame.copy()
    out = enforcer(frame)
    if out_dtype is not None:
        assert str(out["c"].dtype) == str(pd.Series([], dtype=out_dtype).dtype)
    else:
        assert out["c"].dtype.kind == "M"
    assert out["c"].tolist() == pd.Series(expected, dtype=out["c"].dtype).tolist() or (
        out["c"].isna().tolist() == pd.Series(expected).isna().tolist()
    )
    pd.testing.assert_series_equal(
        out["c"].reset_index(drop=True),
        pd.Series(expected, dtype=out["c"].dtype, name="c"),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is never modified


# (id, declared type, values, input dtype, required, the "found" words)
ERRORS = [
    ("long<-non-integer-float", "long", [1.0, 1.5], "float64", True, "a non-integer float"),
    ("long<-null", "long", [1.0, None], "float64", True, "null"),
    ("long<-infinity", "long", [np.inf], "float64", True, "an infinite float"),
    ("long<-string", "long", ["abc"], object, True, "a string"),
    ("long<-str-dtype", "long", ["1x"], "str", True, "a string"),
    ("long<-bool", "long", [True], "bool", True, "a boolean"),
    ("long<-object-non-integer", "long", [1, 2.5], object, True, "a non-integer float"),
    ("long<-object-null", "long", [1, None], object, True, "null"),
    ("long<-Int64-NA", "long", [1, None], "Int64", True, "null"),
    ("long<-uint64-too-big", "long", [2**63], "uint64", True, "an integer out of range for long"),
    ("long<-object-too-big", "long", [2**70], object, True, "an integer out of range for long"),
    ("integer<-too-big", "integer", [2**40], "int64", True, "an integer out of range for integer"),
    (
        "integer<-float-too-big",
        "integer",
        [2.0**40],
        "float64",
        True,
        "an integer out of range for integer",
    ),
    ("double<-string", "double", ["abc"], object, True, "a string"),
    ("double<-str-dtype", "double", ["abc"], "str", True, "a string"),
    ("double<-bool", "double", [True], "bool", True, "a boolean"),
    ("double<-mixed", "double", [1, "a"], object, True, "values of mixed types"),
    ("double<-datetime", "double", ["2024-01-01"], "datetime64[ns]", True, "a datetime"),
    ("float<-overflow", "float", [1e300], "float64", True, "a number out of range for float"),
    ("boolean<-int", "boolean", [1, 0], "int64", True, "an integer"),
    ("boolean<-string", "boolean", ["true"], object, True, "a string"),
    ("boolean<-null", "boolean", [True, None], object, True, "null"),
    ("string<-int", "string", [1, 2], "int64", True, "an integer"),
    ("string<-float", "string", [1.5], "float64", True, "a float"),
    ("binary<-string", "binary", ["a"], object, True, "a string"),
    (
        "datetime<-bad-string",
        "datetime",
        ["not a date"],
        object,
        True,
        "a string that is not an ISO 8601 datetime",
    ),
    ("datetime<-float", "datetime", [1.5], "float64", True, "a float"),
    # MLflow parses with the first string's format: another ISO 8601 form is refused
    (
        "datetime<-date-then-datetime",
        "datetime",
        ["2024-01-01", "2024-01-01T10:00:00"],
        object,
        True,
        "datetimes written in more than one format",
    ),
    (
        "datetime<-space-then-T",
        "datetime",
        [None, "2024-01-01 10:00:00", "2024-01-01T10:00:00"],
        "str",
        True,
        "datetimes written in more than one format",
    ),
    (
        "datetime<-fraction-then-none",
        "datetime",
        ["2024-01-01T10:00:00.5", "2024-01-01T10:00:00"],
        object,
        True,
        "datetimes written in more than one format",
    ),
    # pandas' parser reads these as the clock's time
    ("datetime<-now", "datetime", ["2024-01-01", " NOW"], object, True, "'now' or 'today'"),
    ("datetime<-today", "datetime", ["today"], object, True, "'now' or 'today'"),
]


@pytest.mark.parametrize(
    ("type_", "values", "dtype", "required", "found"),
    [row[1:] for row in ERRORS],
    ids=[row[0] for row in ERRORS],
)
def test_error(type_, values, dtype, required, found):
    enforcer, frame = _one(type_, values, dtype, required)
    with pytest.raises(SchemaMismatch) as info:
        enforcer(frame)
    err = info.value
    assert (err.column, err.expected, err.found) == ("c", type_, found)
    assert str(err) == f"Schema mismatch for column 'c': expected {type_}, found {found}."


def test_error_never_echoes_data():
    enforcer, frame = _one("double", ["s3cr3t-value"], object)
    with pytest.raises(SchemaMismatch) as info:
        enforcer(frame)
    assert "s3cr3t" not in str(info.value)


SCHEMA = Schema(
    [ColSpec("double", "a"), ColSpec("long", "b"), ColSpec("string", "c", required=False)]
)


def test_missing_required_columns_are_all_named():
    with pytest.raises(SchemaMismatch) as info:
        SchemaEnforcer(SCHEMA)(pd.DataFrame({"c": ["x"]}))
    assert info.value.column is None
    assert info.value.expected == "required columns 'a', 'b'"
    assert str(info.value) == (
        "Schema mismatch for input: expected required columns 'a', 'b', found them missing."
    )


def test_missing_optional_column_is_fine_and_not_added():
    out = SchemaEnforcer(SCHEMA)(pd.DataFrame({"b": [1], "a": [2.0]}))
    assert list(out.columns) == ["a", "b"]


def test_extra_columns_dropped_and_columns_reordered():
    frame = pd.DataFrame({"zz": [0], "c": ["x"], "b": [1], "a": [1]})
    out = SchemaEnforcer(SCHEMA)(frame)
    assert list(out.columns) == ["a", "b", "c"]
    assert out.dtypes.tolist() == [np.dtype("float64"), np.dtype("int64"), frame["c"].dtype]
    assert list(frame.columns) == ["zz", "c", "b", "a"]


def test_matching_numeric_frame_is_returned_untouched():
    schema = Schema([ColSpec("double", n) for n in "abcd"])
    frame = pd.DataFrame(np.random.default_rng(0).random((5, 4)), columns=list("abcd"))
    assert SchemaEnforcer(schema)(frame) is frame


def test_reordered_labels_are_selected_without_copying():
    schema = Schema([ColSpec("double", str(i)) for i in range(4)])
    data = np.random.default_rng(0).random((3, 4))
    frame = pd.DataFrame(data, columns=["3", "2", "1", "0"])
    out = SchemaEnforcer(schema)(frame)
    assert list(out.columns) == ["0", "1", "2", "3"]
    assert np.shares_memory(out["2"].to_numpy(), frame["2"].to_numpy())
    assert list(frame.columns) == ["3", "2", "1", "0"]


@pytest.mark.parametrize(
    ("names", "labels"),
    [(list("0123"), [0, 1, 2, 3]), ([0, 1, 2, 3], list("0123"))],
    ids=["integer-labels-for-string-names", "string-labels-for-integer-names"],
)
def test_labels_match_names_by_value_and_type(names, labels):
    """As pandas' ``name in df.columns`` in MLflow's enforcement: 0 is not "0", so the
    signature's inputs are missing (INVALID_PARAMETER_VALUE), whichever way round."""
    frame = pd.DataFrame(np.zeros((1, 4)), columns=labels)
    with pytest.raises(SchemaMismatch) as info:
        SchemaEnforcer(Schema([ColSpec("double", n) for n in names]))(frame)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "required columns '0', '1', '2', '3'" in info.value.message


def test_int_to_double_is_one_astype_per_column():
    schema = Schema([ColSpec("double", "a"), ColSpec("double", "b")])
    out = SchemaEnforcer(schema)(pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]}))
    assert out.dtypes.tolist() == [np.dtype("float64")] * 2
    assert out["a"].tolist() == [1.0, 2.0]


def test_duplicate_column_is_an_error():
    frame = pd.DataFrame([[1.0, 2.0, 3]], columns=["a", "a", "b"])
    with pytest.raises(SchemaMismatch) as info:
        SchemaEnforcer(SCHEMA)(frame)
    assert (info.value.column, info.value.found) == ("a", "duplicate columns")


INPUT_SHAPES = [
    ("records", [{"a": 1.0, "b": 2}, {"a": 3.0, "b": 4}]),
    ("columns-dict", {"a": [1.0, 3.0], "b": [2, 4]}),
    ("reordered-frame", pd.DataFrame({"b": [2, 4], "a": [1.0, 3.0]})),
]


@pytest.mark.parametrize("data", [d for _, d in INPUT_SHAPES], ids=[i for i, _ in INPUT_SHAPES])
def test_input_shapes_become_a_frame(data):
    schema = Schema([ColSpec("double", "a"), ColSpec("long", "b")])
    out = enforce_schema(data, schema)
    expected = pd.DataFrame({"a": [1.0, 3.0], "b": [2, 4]})
    pd.testing.assert_frame_equal(out.reset_index(drop=True), expected)


ROWS = [("ndarray", np.array([[1.0, 2], [3.0, 4]])), ("nested-list", [[1.0, 2], [3.0, 4]])]


@pytest.mark.parametrize("data", [d for _, d in ROWS], ids=[i for i, _ in ROWS])
def test_rows_are_labelled_by_position_as_in_mlflow(data):
    """Rows without names are pd.DataFrame(rows) in MLflow's enforcement, labelled 0..n-1: they
    fit a signature named 0, 1 (or an unnamed one) and lack the columns of one named a, b, as
    the same rows sent over HTTP (``inputs``, ``instances``, ``dataframe_records``)."""
    ints = enforce_schema(data, Schema([ColSpec("double", 0), ColSpec("long", 1)]))
    pd.testing.assert_frame_equal(ints, pd.DataFrame({0: [1.0, 3.0], 1: [2, 4]}))
    unnamed = enforce_schema(data, Schema([ColSpec("double"), ColSpec("long")]))
    assert unnamed.to_numpy().tolist() == [[1.0, 2], [3.0, 4]]
    with pytest.raises(SchemaMismatch, match="required columns 'a', 'b', found them missing"):
        enforce_schema(data, Schema([ColSpec("double", "a"), ColSpec("long", "b")]))


def test_one_row_dict_and_series():
    schema = Schema([ColSpec("double", "a"), ColSpec("long", "b")])
    out = enforce_schema({"a": 1, "b": 2}, schema)
    assert out.to_dict("records") == [{"a": 1.0, "b": 2}]
    single = Schema([ColSpec("double", "x")])
    assert enforce_schema(pd.Series([1, 2]), single)["x"].tolist() == [1.0, 2.0]
    assert enforce_schema(np.array([1, 2]), single)["x"].tolist() == [1.0, 2.0]


BAD_INPUTS = [
    ("array-for-named-columns", np.zeros((2, 2)), "required columns 'a', 'b'"),
    ("3-d-array", np.zeros((2, 2, 2)), "2 columns"),
    ("series-for-two-columns", pd.Series([1.0]), "2 columns"),
    ("scalar", 3, "a table of columns"),
    ("ragged-lists", [[1.0, 2.0], [1.0]], "a table of columns"),
]


@pytest.mark.parametrize(
    ("data", "expected"),
    [(d, e) for _, d, e in BAD_INPUTS],
    ids=[i for i, _, _ in BAD_INPUTS],
)
def test_bad_input_shapes(data, expected):
    schema = Schema([ColSpec("double", "a"), ColSpec("long", "b")])
    with pytest.raises(SchemaMismatch) as info:
        enforce_schema(data, schema)
    assert info.value.expected == expected


def test_unnamed_column_schema_is_positional():
    schema = Schema([ColSpec("double"), ColSpec("long")])
    out = enforce_schema(pd.DataFrame({"x": [1], "y": [2]}), schema)
    assert list(out.columns) == ["x", "y"]
    assert out.dtypes.tolist() == [np.dtype("float64"), np.dtype("int64")]
    assert list(enforce_schema(np.array([[1, 2]]), schema).columns) == [0, 1]
    with pytest.raises(SchemaMismatch) as info:
        enforce_schema(pd.DataFrame({"x": [1]}), schema)
    assert (info.value.expected, info.value.found) == ("2 columns", "1 column")


# -- tensors ---------------------------------------------------------------------------------

TENSOR_OK = [
    ("exact", "float64", (-1, 3), np.ones((2, 3)), "float64"),
    ("int-to-float64", "float64", (-1, 3), np.ones((2, 3), dtype=np.int64), "float64"),
    ("int-to-float32", "float32", (-1, 3), np.ones((2, 3), dtype=np.int64), "float32"),
    ("float32-to-float64", "float64", (-1, 3), np.ones((2, 3), dtype=np.float32), "float64"),
    ("int32-to-int64", "int64", (-1,), np.ones(4, dtype=np.int32), "int64"),
    ("nested-list", "float64", (-1, 2), [[1, 2], [3, 4]], "float64"),
    ("fixed-dims", "float32", (2, 2), np.ones((2, 2), dtype=np.float32), "float32"),
    ("all-wildcards", "int64", (-1, -1), np.ones((5, 7), dtype=np.int64), "int64"),
    ("object-ints", "int64", (-1,), np.array([1, 2], dtype=object), "int64"),
    ("object-floats", "float64", (-1,), np.array([1, 2.5], dtype=object), "float64"),
    ("strings", "str", (-1,), np.array(["a", "bc"]), "<U2"),
    ("dataframe", "float64", (-1, 2), pd.DataFrame([[1.0, 2.0]]), "float64"),
]


@pytest.mark.parametrize(
    ("dtype", "shape", "data", "out_dtype"),
    [row[1:] for row in TENSOR_OK],
    ids=[row[0] for row in TENSOR_OK],
)
def test_tensor_accepted(dtype, shape, data, out_dtype):
    out = SchemaEnforcer(Schema([TensorSpec(dtype, shape)]))(data)
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.dtype(out_dtype)
    np.testing.assert_array_equal(out, np.asarray(data).astype(out.dtype))


def test_tensor_exact_match_is_not_copied():
    data = np.ones((2, 3))
    assert SchemaEnforcer(Schema([TensorSpec("float64", (-1, 3))]))(data) is data


TENSOR_ERRORS = [
    ("rank", "float64", (-1, 3), np.ones(3), "shape (3,)"),
    ("fixed-dim", "float64", (-1, 3), np.ones((2, 4)), "shape (2, 4)"),
    ("float64-to-float32", "float32", (-1,), np.ones(2), "dtype float64"),
    ("float-to-int", "int64", (-1,), np.ones(2), "dtype float64"),
    ("int64-to-int32", "int32", (-1,), np.ones(2, dtype=np.int64), "dtype int64"),
    ("strings-to-float", "float64", (-1,), np.array(["a"], dtype=object), "a string"),
    ("object-non-integer", "int64", (-1,), np.array([1, 2.5], dtype=object), "a non-integer float"),
    ("ragged", "float64", (-1, 2), [[1.0, 2.0], [1.0]], "rows of unequal length"),
]


@pytest.mark.parametrize(
    ("dtype", "shape", "data", "found"),
    [row[1:] for row in TENSOR_ERRORS],
    ids=[row[0] for row in TENSOR_ERRORS],
)
def test_tensor_error(dtype, shape, data, found):
    with pytest.raises(SchemaMismatch) as info:
        SchemaEnforcer(Schema([TensorSpec(dtype, shape)]))(data)
    assert info.value.found == found
    assert info.value.column is None
    assert info.value.expected.startswith(f"a {np.dtype(dtype).name} tensor of shape (")


NAMED = Schema([TensorSpec("float64", (-1,), "x"), TensorSpec("int64", (-1, 2), "y")])


def test_named_tensors():
    out = SchemaEnforcer(NAMED)({"x": [1, 2], "y": np.ones((2, 2), dtype=np.int64), "z": 1})
    assert set(out) == {"x", "y"}
    assert out["x"].dtype == np.float64


def test_named_tensors_from_dataframe_columns():
    schema = Schema([TensorSpec("float64", (-1,), "a"), TensorSpec("int64", (-1,), "b")])
    out = SchemaEnforcer(schema)(pd.DataFrame({"a": [1.0], "b": [2]}))
    assert out["a"].tolist() == [1.0]
    assert out["b"].tolist() == [2]


def test_named_tensor_errors():
    with pytest.raises(SchemaMismatch) as info:
        SchemaEnforcer(NAMED)({"z": [1.0]})
    assert info.value.expected == "required tensors 'x', 'y'"
    with pytest.raises(SchemaMismatch) as info:
        SchemaEnforcer(NAMED)(np.ones(3))
    assert info.value.found == "a list without names"
    with pytest.raises(SchemaMismatch) as info:
        SchemaEnforcer(NAMED)({"x": [1.5], "y": np.ones((1, 3), dtype=np.int64)})
    assert (info.value.column, info.value.found) == ("y", "shape (1, 3)")


def test_input_dtypes_for_decoders():
    assert SchemaEnforcer(SCHEMA).input_dtypes == {
        "a": np.dtype("float64"),
        "b": np.dtype("int64"),
        "c": np.dtype("object"),
    }
    assert SchemaEnforcer(NAMED).input_dtypes == {"x": np.dtype("float64"), "y": np.dtype("int64")}


AWARE = {
    "utc-us": pd.Series(pd.to_datetime(["2024-01-01T00:00:00+01:00"]).tz_convert("UTC")),
    "offset-ns": pd.Series(pd.to_datetime(["2024-01-01T00:00:00+01:00"]).as_unit("ns")),
    "with-nat": pd.Series(pd.to_datetime(["2024-01-01T00:00:00Z", None])),
    "empty": pd.Series([], dtype="datetime64[ns, UTC]"),
    "datetime-objects": pd.Series([dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)], dtype=object),
    "timestamp-objects": pd.Series([pd.Timestamp("2024-01-02T03:04:05+01:00")], dtype=object),
    "offset-strings": pd.Series(["2024-01-02T03:04:05+01:00"], dtype=object),
    "zulu-strings": pd.Series(["2024-01-02T03:04:05Z"], dtype=object),
}


@pytest.mark.parametrize("column", list(AWARE.values()), ids=list(AWARE))
def test_tz_aware_datetimes_are_refused_as_mlflow_refuses_them(column: pd.Series) -> None:
    # MLflow 3.17.2: "only contains timezone-naive datetime objects", INVALID_PARAMETER_VALUE
    # (held against MLflow itself in test_mlflow_values.py and over HTTP in
    # tests/server/test_mlflow_schema_wire.py)
    enforcer = SchemaEnforcer(Schema([ColSpec("datetime", "c", required=False)]))
    with pytest.raises(SchemaMismatch) as info:
        enforcer(pd.DataFrame({"c": column}))
    assert type(info.value) is SchemaMismatch  # INVALID_PARAMETER_VALUE, not BAD_REQUEST
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert (info.value.column, info.value.found) == ("c", "a time-zone-aware datetime")


def test_naive_datetimes_reach_the_model_in_nanoseconds():
    stamps = pd.Series(pd.to_datetime(["2024-01-01T00:00:00"]))  # pandas 3 parses to us
    enforcer = SchemaEnforcer(Schema([ColSpec("datetime", "c")]))
    out = enforcer(pd.DataFrame({"c": stamps}))
    assert str(out["c"].dtype) == "datetime64[ns]"
    assert out["c"][0] == stamps[0]
    ns = pd.DataFrame({"c": stamps.dt.as_unit("ns")})
    assert enforcer(ns) is ns  # already nanoseconds: nothing to do


def test_large_matching_frame_costs_no_per_cell_work():
    # Structural check of the O(columns) path: the same object comes back, whatever the row count.
    schema = Schema([ColSpec("double", "a"), ColSpec("long", "b"), ColSpec("boolean", "c")])
    rows = 200_000
    frame = pd.DataFrame(
        {"a": np.zeros(rows), "b": np.zeros(rows, dtype=np.int64), "c": np.zeros(rows, bool)}
    )
    assert SchemaEnforcer(schema)(frame) is frame


def test_names_0_and_string_0_each_take_their_own_column() -> None:
    schema = Schema([ColSpec("double", 0), ColSpec("long", "0", required=False)])
    enforcer = SchemaEnforcer(schema)
    out = enforcer(pd.DataFrame([[2, 1.0]], columns=["0", 0]))
    assert out.columns.tolist() == [0, "0"]
    assert [type(c) for c in out.columns] == [int, str]
    assert out.dtypes.tolist() == [np.dtype("float64"), np.dtype("int64")]
    assert out.iloc[0].tolist() == [1.0, 2]
    # the optional "0" may be missing; the required 0 may not, even with "0" present
    assert enforcer(pd.DataFrame({0: [1.5]})).columns.tolist() == [0]
    with pytest.raises(SchemaMismatch) as info:
        enforcer(pd.DataFrame({"0": [1]}))
    assert info.value.expected == "required column '0'"


def test_integer_ndarray_for_double_schema_is_cast_once():
    schema = Schema([ColSpec("double", i) for i in range(4)])
    out = SchemaEnforcer(schema)(np.arange(8).reshape(2, 4))
    assert out.dtypes.tolist() == [np.dtype("float64")] * 4
    assert out.to_numpy().tolist() == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]


def test_mixed_frame_converts_only_what_needs_it():
    schema = Schema([ColSpec("double", "a"), ColSpec("string", "b"), ColSpec("long", "c")])
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [1.0, 2.0]})
    out = SchemaEnforcer(schema)(frame)
    assert out.dtypes.tolist() == [np.dtype("float64"), frame["b"].dtype, np.dtype("int64")]
    assert frame["a"].dtype == np.dtype("int64")  # the caller's frame is untouched


COLUMN_INDEXES = [
    ("str-index", pd.Index(["a", "b", "c"], dtype="str")),
    ("object-index", pd.Index(["a", "b", "c"], dtype=object)),
    ("categorical-index", pd.CategoricalIndex(["a", "b", "c"])),
]


@pytest.mark.parametrize(
    "columns", [c for _, c in COLUMN_INDEXES], ids=[i for i, _ in COLUMN_INDEXES]
)
def test_signature_columns_in_order_need_no_lookup(columns):
    schema = Schema([ColSpec("double", n) for n in "abc"])
    frame = pd.DataFrame(np.ones((2, 3)), columns=columns)
    assert SchemaEnforcer(schema)(frame) is frame
    ints = frame.astype(np.int64)
    out = SchemaEnforcer(schema)(ints)
    assert out.dtypes.tolist() == [np.dtype("float64")] * 3 and list(out.columns) == list("abc")


def test_unnamed_schema_converts_columns_with_duplicate_labels():
    schema = Schema([ColSpec("double"), ColSpec("string"), ColSpec("long")])
    frame = pd.DataFrame([[1, "x", 2.0], [3, "y", 4.0]], columns=["a", "a", "b"])
    out = enforce_schema(frame, schema)
    assert list(out.columns) == ["a", "a", "b"]
    assert out.dtypes.tolist() == [np.dtype("float64"), frame.dtypes.iloc[1], np.dtype("int64")]
    assert out.iloc[:, 2].tolist() == [2, 4]
    with pytest.raises(SchemaMismatch) as info:
        enforce_schema(frame.assign(b=[1.0, None]).set_axis(["a", "a", "b"], axis=1), schema)
    assert (info.value.column, info.value.found) == ("2", "null")


NULLS = [
    ("str", pd.array(["x", None], dtype="str")),
    ("object", np.array(["x", None], dtype=object)),
    ("string-python", pd.array(["x", None], dtype="string")),
]


@pytest.mark.parametrize("values", [v for _, v in NULLS], ids=[i for i, _ in NULLS])
def test_null_in_a_required_string_column(values):
    # MLflow 3.17.2 passes it to the model (tests/server/test_mlflow_wire.py: string-null-*)
    enforcer = SchemaEnforcer(Schema([ColSpec("string", "s"), ColSpec("double", "d")]))
    out = enforcer(pd.DataFrame({"s": values, "d": [1.0, 2.0]}))
    assert out["s"].isna().tolist() == [False, True]
    optional = SchemaEnforcer(Schema([ColSpec("string", "s", required=False)]))
    assert optional(pd.DataFrame({"s": values}))["s"].isna().tolist() == [False, True]


def test_frames_built_by_the_enforcer_do_not_share_its_column_index() -> None:
    enforcer = SchemaEnforcer(Schema([ColSpec("double", 0), ColSpec("double", 1)]))
    first = enforcer(np.array([[1.0, 2.0]]))
    first.columns.name = "set by a model"
    second = enforcer(np.array([[3.0, 4.0]]))
    assert second.columns is not first.columns and second.columns.name is None


# -- integer column names (MLflow's infer_signature on pd.DataFrame(X)) ---------------------

INT_NAMED = Schema([ColSpec("double", i) for i in range(4)])


@pytest.mark.parametrize(
    "labels",
    [[0, 1, 2, 3], np.arange(4), [3, 2, 1, 0]],
    ids=["ints", "numpy-ints", "reordered"],
)
def test_integer_names_reach_the_model_as_integers(labels) -> None:
    frame = pd.DataFrame([[0.1, -0.2, 0.3, -0.4]], columns=labels)
    out = SchemaEnforcer(INT_NAMED)(frame)
    assert out.columns.tolist() == [0, 1, 2, 3]
    assert all(type(c) is int for c in out.columns.tolist())
    for position, label in enumerate(labels):  # each value under its own name
        np.testing.assert_array_equal(out[int(label)].to_numpy(), frame.iloc[:, position])


def test_integer_names_from_positional_data_and_series() -> None:
    out = SchemaEnforcer(INT_NAMED)(np.zeros((2, 4)))
    assert out.columns.tolist() == [0, 1, 2, 3]
    one = SchemaEnforcer(Schema([ColSpec("long", 7)]))(pd.Series([1, 2]))
    assert one.columns.tolist() == [7]


def test_missing_integer_named_column_is_named() -> None:
    with pytest.raises(SchemaMismatch, match="required column '3'") as info:
        SchemaEnforcer(INT_NAMED)(pd.DataFrame([[0.1, 0.2, 0.3]], columns=[0, 1, 2]))
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_wrong_value_type_is_bad_request_as_in_mlflow() -> None:
    frame = pd.DataFrame([["x", 0.2, 0.3, 0.4]], columns=[0, 1, 2, 3])
    with pytest.raises(InvalidColumnValue) as info:
        SchemaEnforcer(INT_NAMED)(frame)
    assert info.value.error_code == "BAD_REQUEST"
    assert info.value.column == "0"


# -- datetimes reach the model in nanoseconds, as in MLflow ----------------------------------


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(["2024-01-02T03:04:05"], dtype=object),
        pd.Series(["2024-01-02T03:04:05"], dtype="str"),
        pd.Series(pd.to_datetime(["2024-01-02T03:04:05"]).as_unit("us")),
        pd.Series(pd.to_datetime(["2024-01-02T03:04:05"]).as_unit("s")),
        pd.Series([dt.datetime(2024, 1, 2, 3, 4, 5)], dtype=object),
    ],
    ids=["iso-object", "iso-str", "microseconds", "seconds", "datetime-objects"],
)
def test_datetimes_become_nanoseconds(column) -> None:
    out = SchemaEnforcer(Schema([ColSpec("datetime", "t")]))(pd.DataFrame({"t": column}))
    assert out["t"].dtype == np.dtype("datetime64[ns]") == DataType.datetime.to_pandas()
    assert out["t"][0] == pd.Timestamp("2024-01-02T03:04:05")


def test_datetime_beyond_nanoseconds_is_refused() -> None:
    far = pd.Series(pd.to_datetime(["3000-01-01"]).as_unit("s"))
    with pytest.raises(InvalidColumnValue, match="nanosecond range"):
        SchemaEnforcer(Schema([ColSpec("datetime", "t")]))(pd.DataFrame({"t": far}))


F32 = np.dtype("float32")


@pytest.mark.parametrize(
    ("shape", "frame", "expected"),
    [
        # MLflow's _enforce_tensor_schema: one column fills a (-1,) or (-1, 1) tensor
        ((-1,), pd.DataFrame({"x": [1.5, 2.0]}), np.array([1.5, 2.0], dtype=F32)),
        ((-1, 1), pd.DataFrame({"z": [1, 2]}), np.array([[1.0], [2.0]], dtype=F32)),
        # a column of lists is stacked into the tensor's shape
        (
            (-1, 3),
            pd.DataFrame({"x": [[1, 2, 3], [4, 5, 6.5]]}),
            np.array([[1, 2, 3], [4, 5, 6.5]], dtype=F32),
        ),
        # several columns: the frame's rows, when the shape says that many columns
        (
            (-1, 2),
            pd.DataFrame({"a": [1.5], "b": [2.0]}, dtype=F32),
            np.array([[1.5, 2.0]], dtype=F32),
        ),
    ],
    ids=["rank1", "rank2-one-column", "column-of-lists", "rows"],
)
def test_a_frame_for_an_unnamed_tensor(shape, frame, expected):
    out = SchemaEnforcer(Schema([TensorSpec(F32, shape)]))(frame)
    assert out.dtype == F32 and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)


def test_a_frame_for_named_tensors_takes_their_columns():
    schema = Schema([TensorSpec(F32, (-1, 1), "a"), TensorSpec(F32, (-1,), "b")])
    out = SchemaEnforcer(schema)(pd.DataFrame({"b": [3, 4], "z": ["x", "y"], "a": [1.5, 2.0]}))
    assert set(out) == {"a", "b"}
    np.testing.assert_array_equal(out["a"], np.array([[1.5], [2.0]], dtype=F32))
    np.testing.assert_array_equal(out["b"], np.array([3, 4], dtype=F32))
    with pytest.raises(SchemaMismatch, match="required tensor 'b'"):
        SchemaEnforcer(schema)(pd.DataFrame({"a": [1.5]}))


@pytest.mark.parametrize(
    ("shape", "frame", "error", "found"),
    [
        ((-1, 3), pd.DataFrame({"x": [1.5, 2.0]}), SchemaMismatch, "a column of single values"),
        ((2, 3), pd.DataFrame({"x": [[1, 2, 3]]}), SchemaMismatch, "a frame column"),
        ((-1, 3), pd.DataFrame({"x": [[1, 2], [3, 4]]}), SchemaMismatch, "lists of other"),
        ((-1, 3), pd.DataFrame({"a": [1.0], "b": [2.0]}), SchemaMismatch, "a frame of 2 columns"),
        # a string for a number fails MLflow's cast: BAD_REQUEST
        ((-1, 2), pd.DataFrame({"a": [1.5], "b": ["x"]}), InvalidColumnValue, "a string"),
        ((-1,), pd.DataFrame({"a": ["x"]}), InvalidColumnValue, "a string"),
    ],
    ids=["scalars-for-rank2", "fixed-first-dim", "short-lists", "too-few-columns", "string", "str"],
)
def test_a_frame_that_does_not_fill_the_tensor(shape, frame, error, found):
    with pytest.raises(error) as info:
        SchemaEnforcer(Schema([TensorSpec(F32, shape)]))(frame)
    assert type(info.value) is error and found in info.value.found

"""infer_signature from every input kind, and the infer -> JSON -> enforce round trip."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlserve.errors import InvalidSignature
from mlserve.schema import (
    ColSpec,
    DataType,
    ModelSignature,
    ParamSchema,
    ParamSpec,
    Schema,
    SchemaEnforcer,
    TensorSpec,
    infer_signature,
)

# (id, column values, dtype, expected DataType, expected required)
COLUMNS = [
    ("int64", [1, 2], "int64", DataType.long, True),
    ("int32", [1, 2], "int32", DataType.integer, True),
    ("int8", [1, 2], "int8", DataType.integer, True),
    ("uint16", [1, 2], "uint16", DataType.integer, True),
    ("uint32", [1, 2], "uint32", DataType.long, True),
    ("float64", [0.5, 1.0], "float64", DataType.double, True),
    ("float64-with-nan", [0.5, np.nan], "float64", DataType.double, True),
    ("float32", [0.5], "float32", DataType.float, True),
    ("bool", [True, False], "bool", DataType.boolean, True),
    ("str", ["a", "b"], "str", DataType.string, True),
    ("str-with-null", ["a", None], "str", DataType.string, False),
    ("object-strings", ["a", "b"], object, DataType.string, True),
    ("object-strings-with-null", ["a", None], object, DataType.string, False),
    ("bytes", [b"a", b"b"], object, DataType.binary, True),
    ("datetime64", ["2024-01-01"], "datetime64[ns]", DataType.datetime, True),
    ("datetime64-with-NaT", ["2024-01-01", None], "datetime64[ns]", DataType.datetime, False),
    ("python-datetimes", [dt.datetime(2024, 1, 1)], object, DataType.datetime, True),
    ("object-ints", [1, 2], object, DataType.long, True),
    ("object-ints-with-null", [1, None], object, DataType.long, False),
    ("object-floats", [1.5, None], object, DataType.double, True),
    ("object-bools", [True, False], object, DataType.boolean, True),
    ("all-none", [None, None], object, DataType.string, False),
    ("Int64-with-NA", [1, None], "Int64", DataType.long, False),
    ("Int32", [1, 2], "Int32", DataType.integer, True),
    ("boolean-ext", [True, None], "boolean", DataType.boolean, False),
    ("Float64", [1.5, None], "Float64", DataType.double, True),
    ("category", ["a", "b"], "category", DataType.string, True),
]


@pytest.mark.parametrize(
    ("values", "dtype", "expected", "required"),
    [row[1:] for row in COLUMNS],
    ids=[row[0] for row in COLUMNS],
)
def test_column_type(values, dtype, expected, required):
    frame = pd.DataFrame({"c": pd.Series(values, dtype=dtype)})
    sig = infer_signature(frame)
    assert sig.inputs == Schema([ColSpec(expected, "c", required)])
    # and the inferred schema accepts the very data it came from
    SchemaEnforcer(sig.inputs)(frame)


UNINFERABLE = [
    ("mixed-object", pd.DataFrame({"c": [1, "a"]}), "column 'c'"),
    ("complex", pd.DataFrame({"c": [1j]}), "a complex number"),
    ("timedelta", pd.DataFrame({"c": pd.to_timedelta([1], unit="s")}), "a timedelta"),
    ("no-columns", pd.DataFrame(), "no columns"),
    ("empty-list", [], "empty list"),
    ("empty-dict", {}, "empty dict"),
    ("ragged", [[1, 2], [3]], "unequal length"),
    ("scalar-int", 3, "an integer"),
    ("0-d-array", np.array(1.0), "0-dimensional"),
]


@pytest.mark.parametrize(
    ("data", "words"), [row[1:] for row in UNINFERABLE], ids=[row[0] for row in UNINFERABLE]
)
def test_uninferable(data, words):
    with pytest.raises(InvalidSignature) as info:
        infer_signature(data)
    assert words in str(info.value)


# (id, input, expected inputs schema)
INPUT_KINDS = [
    (
        # integer labels stay integers, as MLflow writes them ("name": 0)
        "dataframe-int-labels",
        pd.DataFrame(np.zeros((2, 2))),
        Schema([ColSpec("double", 0), ColSpec("double", 1)]),
    ),
    ("series-named", pd.Series([1, 2], name="x"), Schema([ColSpec("long", "x")])),
    ("series-unnamed", pd.Series([1.5]), Schema([ColSpec("double")])),
    ("ndarray-2d", np.zeros((5, 4)), Schema([TensorSpec("float64", (-1, 4))])),
    ("ndarray-1d", np.zeros(5, dtype=np.int64), Schema([TensorSpec("int64", (-1,))])),
    ("ndarray-3d", np.zeros((2, 3, 4), np.float32), Schema([TensorSpec("float32", (-1, 3, 4))])),
    (
        "dict-of-arrays",
        {"a": np.zeros((3, 2)), "b": np.zeros(3, dtype=np.int32)},
        Schema([TensorSpec("float64", (-1, 2), "a"), TensorSpec("int32", (-1,), "b")]),
    ),
    (
        "dict-of-lists",
        {"a": [1, 2], "b": ["x", "y"]},
        Schema([ColSpec("long", "a"), ColSpec("string", "b")]),
    ),
    (
        "dict-one-row",
        {"a": 1.5, "b": "x"},
        Schema([ColSpec("double", "a"), ColSpec("string", "b")]),
    ),
    (
        "list-of-dicts",
        [{"a": 1, "b": True}, {"a": 2, "b": False}],
        Schema([ColSpec("long", "a"), ColSpec("boolean", "b")]),
    ),
    ("nested-lists", [[1.0, 2.0], [3.0, 4.0]], Schema([TensorSpec("float64", (-1, 2))])),
    ("list-of-strings", ["a", "b"], Schema([ColSpec("string")])),
    ("string", "hello", Schema([ColSpec("string")])),
    ("bytes", b"\x00", Schema([ColSpec("binary")])),
]


@pytest.mark.parametrize(
    ("data", "expected"), [row[1:] for row in INPUT_KINDS], ids=[row[0] for row in INPUT_KINDS]
)
def test_input_kinds(data, expected):
    assert infer_signature(data).inputs == expected


def test_seed_model_signature(seed_data, seed_model):
    X, _ = seed_data
    sig = infer_signature(X, seed_model.predict(X))
    assert sig.to_dict() == {
        "inputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]',
        "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
        "params": None,
    }
    assert ModelSignature.from_dict(sig.to_dict()) == sig
    frame_sig = infer_signature(pd.DataFrame(X))
    assert frame_sig.inputs.input_names() == [0, 1, 2, 3]
    assert '"name": 0' in frame_sig.to_dict()["inputs"]


# (id, params, expected specs)
PARAMS = [
    ("float", {"k": 1.5}, ParamSpec("k", "double", 1.5)),
    ("int", {"k": 3}, ParamSpec("k", "long", 3)),
    ("numpy-int32", {"k": np.int32(3)}, ParamSpec("k", "integer", 3)),
    ("numpy-float32", {"k": np.float32(0.5)}, ParamSpec("k", "float", 0.5)),
    ("bool", {"k": True}, ParamSpec("k", "boolean", True)),
    ("str", {"k": "x"}, ParamSpec("k", "string", "x")),
    ("bytes", {"k": b"x"}, ParamSpec("k", "binary", b"x")),
    (
        "datetime",
        {"k": dt.datetime(2024, 1, 1)},
        ParamSpec("k", "datetime", dt.datetime(2024, 1, 1)),
    ),
    ("list-int", {"k": [1, 2]}, ParamSpec("k", "long", [1, 2], shape=(-1,))),
    ("list-mixed-numbers", {"k": [1, 2.5]}, ParamSpec("k", "double", [1.0, 2.5], shape=(-1,))),
    ("tuple-str", {"k": ("a", "b")}, ParamSpec("k", "string", ["a", "b"], shape=(-1,))),
    ("array-1d", {"k": np.array([0.5])}, ParamSpec("k", "double", [0.5], shape=(-1,))),
]


@pytest.mark.parametrize(
    ("params", "spec"), [row[1:] for row in PARAMS], ids=[row[0] for row in PARAMS]
)
def test_param_inference(params, spec):
    sig = infer_signature(pd.DataFrame({"a": [1]}), params=params)
    assert sig.params == ParamSchema([spec])
    assert ParamSchema.from_json(sig.params.to_json()) == sig.params


BAD_PARAMS = [
    ("none", {"k": None}, "it is null"),
    ("empty-list", {"k": []}, "empty list"),
    ("mixed-list", {"k": [1, "a"]}, "mixed types"),
    ("nested", {"k": [[1]]}, "a list"),
    ("2-d-array", {"k": np.zeros((2, 2))}, "1-D"),
    ("dict", {"k": {"a": 1}}, "an object"),
    ("non-string-name", {1: 1}, "strings"),
]


@pytest.mark.parametrize(
    ("params", "words"), [row[1:] for row in BAD_PARAMS], ids=[row[0] for row in BAD_PARAMS]
)
def test_bad_param_inference(params, words):
    with pytest.raises(InvalidSignature) as info:
        infer_signature(None, params=params)
    assert words in str(info.value)


def test_nothing_given():
    assert infer_signature() == ModelSignature()
    assert infer_signature(None, params={}) == ModelSignature()


# -- properties ------------------------------------------------------------------------------

_NUMERIC = ["int64", "int32", "int16", "uint8", "float64", "float32", "bool"]
_KINDS = [*_NUMERIC, "str", "object-str", "bytes", "datetime"]
_names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
_stamps = st.datetimes(dt.datetime(1970, 1, 1), dt.datetime(2200, 1, 1))


def _column(draw, kind: str, rows: int) -> pd.Series:
    nulls = draw(st.booleans())
    if kind in _NUMERIC:
        dtype = np.dtype(kind)
        floats = st.floats(width=dtype.itemsize * 8, allow_nan=nulls, allow_infinity=False)
        return pd.Series(draw(hnp.arrays(dtype, rows, elements=floats if kind[0] == "f" else None)))
    if kind == "datetime":
        stamps = draw(
            st.lists(_stamps | st.none() if nulls else _stamps, min_size=rows, max_size=rows)
        )
        return pd.Series(pd.to_datetime(stamps), dtype="datetime64[ns]")
    if kind == "bytes":
        return pd.Series(
            draw(st.lists(st.binary(max_size=4), min_size=rows, max_size=rows)), dtype=object
        )
    text = st.text(max_size=5) | st.none() if nulls else st.text(max_size=5)
    strings = draw(st.lists(text, min_size=rows, max_size=rows))
    return pd.Series(strings, dtype="str" if kind == "str" else object)


@st.composite
def frames(draw):
    """Random frames of every dtype a signature describes, with str and int column labels."""
    rows = draw(st.integers(0, 6))
    labels = st.lists(_names | st.integers(0, 99), min_size=1, max_size=6, unique_by=str)
    return pd.DataFrame(
        {n: _column(draw, draw(st.sampled_from(_KINDS)), rows) for n in draw(labels)}
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_infer_json_enforce_round_trip(frame):
    sig = infer_signature(frame)
    restored = ModelSignature.from_dict(sig.to_dict())
    assert restored == sig
    out = SchemaEnforcer(restored.inputs)(frame)
    expected = frame  # integer labels stay integers through the JSON form
    # Narrow integers widen to the signature's type (int16 -> integer is int32); values stay.
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)
    for spec in restored.inputs:
        if spec.type not in (DataType.string, DataType.binary, DataType.datetime):
            assert out[spec.name].dtype == spec.type.to_numpy()
        else:
            assert out[spec.name].dtype == expected[spec.name].dtype


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.dtype(t) for t in ("float64", "float32", "int64", "int32", "bool")]),
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
    )
)
def test_tensor_round_trip(array):
    sig = infer_signature(array)
    restored = ModelSignature.from_dict(sig.to_dict())
    assert restored == sig
    out = SchemaEnforcer(restored.inputs)(array)
    assert out is array


def test_tz_aware_datetime_column():
    stamps = pd.to_datetime(["2024-01-01T00:00:00+01:00"]).tz_convert("UTC")
    sig = infer_signature(pd.DataFrame({"t": stamps}))
    assert sig.inputs == Schema([ColSpec("datetime", "t")])


@pytest.mark.parametrize(
    "dtype", ["int32", "int64", "uint8", "uint32", "uint64", "float32", "float64", "bool"]
)
def test_scalars_get_one_type_in_a_column_in_a_list_and_in_a_param(dtype: str) -> None:
    """Column, nested-value and param inference share one scalar rule (uint32 is long in all
    three: integer cannot hold its values)."""
    value = np.array([1], dtype=dtype)[0]
    column = infer_signature(pd.DataFrame({"a": np.array([1], dtype=dtype)})).inputs
    nested = infer_signature(pd.DataFrame({"a": [[value]]})).inputs
    param = infer_signature(None, params={"k": value}).params
    assert column is not None and nested is not None and param is not None
    assert nested.inputs[0].type.dtype == column.inputs[0].type == param.params[0].type

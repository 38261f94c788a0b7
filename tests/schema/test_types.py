"""Spec classes and their exact MLflow JSON forms."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlserve.errors import InvalidSignature
from mlserve.schema import (
    ColSpec,
    DataType,
    ModelSignature,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
)

SPEC_FORMS = [
    (ColSpec("double", "a"), {"type": "double", "name": "a", "required": True}),
    (ColSpec(DataType.long, "b", required=False), {"type": "long", "name": "b", "required": False}),
    (ColSpec("string"), {"type": "string", "required": True}),
    (
        TensorSpec("float32", [-1, 3]),
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}},
    ),
    (
        TensorSpec(np.dtype("int64"), (-1,), name="x"),
        {"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}, "name": "x"},
    ),
    (
        TensorSpec(np.dtype("<U5"), (-1, 2)),
        {"type": "tensor", "tensor-spec": {"dtype": "str", "shape": [-1, 2]}},
    ),
]


@pytest.mark.parametrize(
    ("spec", "form"),
    SPEC_FORMS,
    ids=["col-double", "col-optional-long", "col-unnamed", "tensor", "tensor-named", "tensor-str"],
)
def test_spec_json_form(spec, form):
    assert spec.to_dict() == form
    cls = type(spec)
    back = cls.from_dict(json.loads(json.dumps(form)))
    assert back.to_dict() == form


@pytest.mark.parametrize("dtype", list(DataType), ids=[t.name for t in DataType])
def test_every_data_type_round_trips(dtype):
    schema = Schema([ColSpec(dtype, "c", required=False)])
    assert Schema.from_json(schema.to_json()) == schema
    assert DataType(dtype.name) is dtype
    assert isinstance(dtype.to_numpy(), np.dtype)


@pytest.mark.parametrize(
    ("dtype", "numpy", "pandas"),
    [
        (DataType.boolean, "bool", "bool"),
        (DataType.integer, "int32", "int32"),
        (DataType.long, "int64", "int64"),
        (DataType.float, "float32", "float32"),
        (DataType.double, "float64", "float64"),
        (DataType.string, "<U0", "object"),
        (DataType.binary, "|S0", "object"),
        (DataType.datetime, "datetime64[ns]", "datetime64[ns]"),
    ],
    ids=lambda v: str(v),
)
def test_data_type_dtypes(dtype, numpy, pandas):
    assert dtype.to_numpy() == np.dtype(numpy)
    assert dtype.to_pandas() == np.dtype(pandas)


PARAM_FORMS = [
    (ParamSpec("k", "double", 1.0), {"name": "k", "type": "double", "default": 1.0, "shape": None}),
    (ParamSpec("n", "long", 3), {"name": "n", "type": "long", "default": 3, "shape": None}),
    (
        ParamSpec("ids", DataType.long, [1, 2], shape=(-1,)),
        {"name": "ids", "type": "long", "default": [1, 2], "shape": [-1]},
    ),
    (ParamSpec("s", "string", "x"), {"name": "s", "type": "string", "default": "x", "shape": None}),
    (
        ParamSpec("b", "boolean", True),
        {"name": "b", "type": "boolean", "default": True, "shape": None},
    ),
    (
        ParamSpec("t", "datetime", "2024-01-02T03:04:05"),
        {"name": "t", "type": "datetime", "default": "2024-01-02T03:04:05", "shape": None},
    ),
    (
        ParamSpec("raw", "binary", b"\x00\x01"),
        {"name": "raw", "type": "binary", "default": "AAE=", "shape": None},
    ),
    (
        ParamSpec("o", "double", None),
        {"name": "o", "type": "double", "default": None, "shape": None},
    ),
]


@pytest.mark.parametrize(
    ("spec", "form"),
    PARAM_FORMS,
    ids=["double", "long", "list-long", "string", "boolean", "datetime", "binary", "no-default"],
)
def test_param_json_form(spec, form):
    assert spec.to_dict() == form
    back = ParamSpec.from_dict(json.loads(json.dumps(form)))
    assert back == spec
    schema = ParamSchema([spec])
    assert ParamSchema.from_json(schema.to_json()) == schema


def test_param_default_is_converted():
    assert ParamSpec("k", "double", 1).default == 1.0
    assert isinstance(ParamSpec("k", "double", 1).default, float)


def test_signature_mlmodel_form():
    sig = ModelSignature(
        inputs=Schema([ColSpec("double", "a")]),
        outputs=Schema([TensorSpec("int64", [-1])]),
        params=ParamSchema([ParamSpec("k", "double", 1.0)]),
    )
    d = sig.to_dict()
    assert d == {
        "inputs": '[{"type": "double", "name": "a", "required": true}]',
        "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
        "params": '[{"name": "k", "type": "double", "default": 1.0, "shape": null}]',
    }
    assert ModelSignature.from_dict(d) == sig
    assert ModelSignature.from_dict({"inputs": d["inputs"]}) == ModelSignature(inputs=sig.inputs)
    assert ModelSignature().to_dict() == {"inputs": None, "outputs": None, "params": None}


def test_signature_accepts_parsed_lists_and_ignores_unknown_keys():
    sig = ModelSignature.from_dict(
        {"inputs": [{"type": "long", "name": "x", "required": True}], "future": 1}
    )
    assert sig.inputs == Schema([ColSpec("long", "x")])


def test_colspec_reads_legacy_optional_key():
    assert ColSpec.from_dict({"type": "long", "name": "x", "optional": True}).required is False


def test_schema_helpers():
    schema = Schema([ColSpec("double", "a"), ColSpec("long", "b", required=False)])
    assert schema.input_names() == ["a", "b"]
    assert schema.required_input_names() == ["a"]
    assert schema.has_input_names()
    assert not schema.is_tensor_spec()
    assert schema.to_dict() == json.loads(schema.to_json())
    unnamed = Schema([TensorSpec("float64", [-1, 4])])
    assert unnamed.input_names() == [0]
    assert unnamed.is_tensor_spec()
    assert not unnamed.has_input_names()


BAD_SIGNATURES = [
    ("not-json", "{"),
    ("not-a-list", '{"type": "double"}'),
    ("empty", "[]"),
    ("unknown-type", '[{"type": "decimal", "name": "a"}]'),
    ("no-type", '[{"name": "a"}]'),
    (
        "mixed-kinds",
        '[{"type": "double", "name": "a"}, {"type": "tensor", "name": "b", '
        '"tensor-spec": {"dtype": "float64", "shape": [-1]}}]',
    ),
    ("mixed-names", '[{"type": "double", "name": "a"}, {"type": "double"}]'),
    ("duplicate-names", '[{"type": "double", "name": "a"}, {"type": "long", "name": "a"}]'),
    ("tensor-no-spec", '[{"type": "tensor"}]'),
    ("tensor-bad-dtype", '[{"type": "tensor", "tensor-spec": {"dtype": "nope", "shape": [1]}}]'),
    ("tensor-bad-shape", '[{"type": "tensor", "tensor-spec": {"dtype": "int8", "shape": "x"}}]'),
    ("name-boolean", '[{"type": "double", "name": true}]'),
    ("name-float", '[{"type": "double", "name": 1.5}]'),
    (
        "tensor-name-int",
        '[{"type": "tensor", "tensor-spec": {"dtype": "int8", "shape": [1]}, "name": 3}]',
    ),
    ("entry-not-object", "[1]"),
]


@pytest.mark.parametrize("text", [t for _, t in BAD_SIGNATURES], ids=[i for i, _ in BAD_SIGNATURES])
def test_bad_schema_json(text):
    with pytest.raises(InvalidSignature):
        Schema.from_json(text)


def test_names_0_and_string_0_are_two_columns() -> None:
    # as in MLflow: labels match names by value and type, so 0 and "0" are two inputs
    specs = [{"type": "double", "name": 0}, {"type": "long", "name": "0"}]
    schema = Schema.from_json(json.dumps(specs))
    assert schema.input_names() == [0, "0"]
    assert Schema.from_json(schema.to_json()) == schema
    with pytest.raises(InvalidSignature, match="duplicate input names: 0"):
        Schema([ColSpec("double", 0), ColSpec("long", 0)])


BAD_PARAMS = [
    ("not-json", "["),
    ("bad-shape", '[{"name": "k", "type": "long", "default": [1], "shape": [2]}]'),
    ("bad-default", '[{"name": "k", "type": "long", "default": "x", "shape": null}]'),
    ("non-integer-default", '[{"name": "k", "type": "long", "default": 1.5, "shape": null}]'),
    ("no-name", '[{"type": "long", "default": 1}]'),
    (
        "duplicate",
        '[{"name": "k", "type": "long", "default": 1}, '
        '{"name": "k", "type": "long", "default": 2}]',
    ),
    ("binary-not-base64", '[{"name": "k", "type": "binary", "default": "***", "shape": null}]'),
]


@pytest.mark.parametrize("text", [t for _, t in BAD_PARAMS], ids=[i for i, _ in BAD_PARAMS])
def test_bad_param_schema_json(text):
    with pytest.raises(InvalidSignature):
        ParamSchema.from_json(text)


def test_bad_signature_part_type():
    with pytest.raises(InvalidSignature):
        ModelSignature.from_dict({"inputs": 3})
    with pytest.raises(InvalidSignature):
        ModelSignature.from_dict("inputs")  # type: ignore[arg-type]

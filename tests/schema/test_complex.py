"""The complex column types: construction, JSON forms (MLflow's), reprs and parse errors.

The byte-for-byte forms MLflow itself writes are held in test_mlflow_signatures.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlserve.errors import InvalidSignature
from mlserve.schema import AnyType, Array, ColSpec, DataType, Map, Object, Property, Schema

MESSAGE = Object([Property("role", "string"), Property("content", "string", required=False)])

FORMS = [
    ("array", Array("long"), {"type": "array", "items": {"type": "long"}}),
    (
        "object",
        MESSAGE,
        {
            "type": "object",
            "properties": {
                "content": {"type": "string", "required": False},
                "role": {"type": "string", "required": True},
            },
        },
    ),
    (
        "map",
        Map(Array("double")),
        {"type": "map", "values": {"type": "array", "items": {"type": "double"}}},
    ),
    ("any", AnyType(), {"type": "any"}),
    (
        "array-of-map-of-any",
        Array(Map(AnyType())),
        {"type": "array", "items": {"type": "map", "values": {"type": "any"}}},
    ),
]


@pytest.mark.parametrize(("t", "form"), [f[1:] for f in FORMS], ids=[f[0] for f in FORMS])
def test_json_form_round_trips(t, form) -> None:
    assert t.to_dict() == form
    spec = ColSpec(t, "c", required=False)
    d = spec.to_dict()
    assert d == {**form, "name": "c", "required": False}
    assert ColSpec.from_dict(json.loads(json.dumps(d))) == spec
    assert Schema.from_json(Schema([spec]).to_json()) == Schema([spec])


def test_object_properties_are_sorted_and_compare_as_sets() -> None:
    a = Object([Property("b", "long"), Property("a", "string")])
    b = Object([Property("a", "string"), Property("b", "long")])
    assert a == b
    assert [p.name for p in a.properties] == ["a", "b"]


def test_reprs_name_the_structure() -> None:
    spec = ColSpec(Array(MESSAGE), "messages")
    assert repr(spec) == "'messages': Array(Object(content: string (optional), role: string))"
    assert repr(Map("long")) == "Map(str -> long)"
    assert repr(ColSpec(AnyType(), required=False)) == "Any"


def test_types_accept_data_type_names_and_members() -> None:
    assert Array("double") == Array(DataType.double)
    assert Property("x", "long").dtype is DataType.long
    assert ColSpec(Map("string")).to_numpy() == np.dtype(object)
    assert ColSpec("double").to_numpy() == np.dtype("float64")


def test_required_null_means_required() -> None:
    # MLflow writes "required": null for a complex column whose required it was not given
    spec = ColSpec.from_dict({"type": "any", "name": "x", "required": None})
    assert spec.required is True


BAD = [
    ("array-no-items", {"type": "array"}),
    ("array-items-not-object", {"type": "array", "items": "long"}),
    ("array-unknown-key", {"type": "array", "items": {"type": "long"}, "extra": 1}),
    ("array-of-nonsense", {"type": "array", "items": {"type": "nope"}}),
    ("map-no-values", {"type": "map"}),
    ("object-no-properties", {"type": "object"}),
    ("object-empty", {"type": "object", "properties": {}}),
    ("object-properties-list", {"type": "object", "properties": [{"type": "long"}]}),
    ("property-no-type", {"type": "object", "properties": {"a": {"required": True}}}),
    (
        "property-bad-required",
        {"type": "object", "properties": {"a": {"type": "long", "required": "y"}}},
    ),
    (
        "property-unknown-key",
        {"type": "object", "properties": {"a": {"type": "long", "name": "a"}}},
    ),
    ("items-with-required", {"type": "array", "items": {"type": "long", "required": True}}),
    ("any-with-items", {"type": "any", "items": {"type": "long"}}),
    ("name-boolean", {"type": "any", "name": True}),
]


@pytest.mark.parametrize("form", [b[1] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_forms_raise_invalid_signature(form) -> None:
    with pytest.raises(InvalidSignature):
        ColSpec.from_dict(form)


def test_bad_constructions_raise_invalid_signature() -> None:
    with pytest.raises(InvalidSignature):
        Object([])
    with pytest.raises(InvalidSignature, match="duplicate property"):
        Object([Property("a", "long"), Property("a", "string")])
    with pytest.raises(InvalidSignature):
        Property(1, "long")  # type: ignore[arg-type]
    with pytest.raises(InvalidSignature):
        Array("nope")  # type: ignore[arg-type]

"""JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the values the codecs accept.

One function per question a document asks: what one value of a column may be in a JSON body
(:func:`value_schema`), what a tensor may be (:func:`tensor_schema`), a param
(:func:`param_schema`) and the ``params`` object (:func:`params_schema`). The ``/invocations``
bodies built from them are in :mod:`mlserve.codecs._json_body_schema`.

The schemas say what the decoder accepts for the declared columns, written from the same
rules (:mod:`mlserve.codecs._json_input`, :mod:`mlserve.codecs._tabular`): a ``double`` takes a
number or ``null`` (read as NaN), a ``binary`` a base64 string, a ``datetime`` an ISO 8601
string, a ``string`` or ``datetime`` column (as MLflow passes it) and an optional column also
``null``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlserve.schema import (
    AnyType,
    Array,
    DataType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    TensorSpec,
)

__all__ = [
    "NAME",
    "JsonSchema",
    "element_schema",
    "param_schema",
    "params_schema",
    "tensor_schema",
    "value_schema",
]

JsonSchema = dict[str, Any]

_INT_RANGES = {
    DataType.integer: (-(2**31), 2**31 - 1),
    DataType.long: (-(2**63), 2**63 - 1),
}
# the first magnitude a float64 rounds past float32's range at (float32's max plus half its last
# step): a float column refuses it and beyond (_scalar_values, _rules)
_FLOAT32_LIMIT = (2 - 2**-24) * 2.0**127
_FLOAT32: JsonSchema = {"exclusiveMinimum": -_FLOAT32_LIMIT, "exclusiveMaximum": _FLOAT32_LIMIT}
_SCALARS: dict[DataType, JsonSchema] = {
    DataType.boolean: {"type": "boolean"},
    DataType.float: {"type": ["number", "null"], **_FLOAT32},
    DataType.double: {"type": ["number", "null"]},
    DataType.string: {"type": "string"},
    DataType.binary: {"type": "string", "contentEncoding": "base64"},
    DataType.datetime: {"type": "string", "format": "date-time"},
}
NAME: JsonSchema = {"type": ["string", "integer"]}  # a column label


def value_schema(column_type: Any, *, nullable: bool = False) -> JsonSchema:
    """The JSON Schema of one value of a column of ``column_type`` in a JSON request body.

    ``nullable`` (an optional column) also allows ``null``. Complex types nest: an
    :class:`~mlserve.schema.Array` is an array of its items, an :class:`~mlserve.schema.Object`
    an object of its properties (no others), a :class:`~mlserve.schema.Map` an object of one
    value type, :class:`~mlserve.schema.AnyType` anything.
    """
    schema = _value(column_type, top=True)
    if column_type is DataType.string:
        # text is what the column declares; MLflow's server hands any other JSON value on as
        # sent (or as its text under inputs/instances), and so does the decoder
        schema = {
            "anyOf": [
                schema,
                {"description": "another JSON value, handed to the model as sent, as MLflow does"},
            ]
        }
    if column_type in _NUMERIC_TEXT:
        # a column (not a nested value) also takes its numbers written as text, as MLflow's
        # server casts a JSON column ("0.1", " 2 ", "1e5"): Python's float()/int() decide
        schema = {"anyOf": [schema, _NUMERIC_TEXT[column_type]]}
    return _or_null(schema) if nullable else schema


_NUMERIC_TEXT: dict[Any, JsonSchema] = {
    t: {"type": "string", "description": f"a number as text, read as Python's {f}() reads it"}
    for t, f in (
        (DataType.float, "float"),
        (DataType.double, "float"),
        (DataType.integer, "int"),
        (DataType.long, "int"),
    )
}


# Scalars inside an array, object or map follow MLflow's dtype rule (the schema layer's
# _nested_values): JSON numbers are int64/float64, so a nested integer, and a nested datetime
# (never a string), take no JSON value at all, a nested float only 0 and 1. JSON Schema cannot
# tell 2 from 2.0, so a nested double (ints only 0 and 1) and long (no 2.0) stay looser than
# the decoder.
_NOTHING: JsonSchema = {"not": {}}
_NESTED: dict[DataType, JsonSchema] = {
    DataType.integer: _NOTHING,
    DataType.datetime: _NOTHING,
    DataType.float: {"enum": [0, 1]},
    # numbers; text among numbers too (MLflow's pd.to_numeric branch), which JSON Schema cannot
    # tell from text alone (refused)
    DataType.double: {"type": ["number", "string"]},
    DataType.binary: {"type": "string"},  # kept as text, or ASCII-encoded: never base64
}


def _value(t: Any, top: bool = False) -> JsonSchema:
    if isinstance(t, DataType):
        if not top and t in _NESTED:
            return dict(_NESTED[t])
        if t in _INT_RANGES:
            low, high = _INT_RANGES[t]
            return {"type": "integer", "minimum": low, "maximum": high}
        if top and t in (DataType.string, DataType.datetime):
            # a null reaches the model even in a required column, as MLflow passes it
            return _or_null(dict(_SCALARS[t]))
        return dict(_SCALARS[t])
    if isinstance(t, Array):
        items = _value(t.dtype)
        if t.dtype in (DataType.double, DataType.datetime):
            # among an array's doubles a null is NaN, among its datetimes None (MLflow's
            # Series of the items); in an object or a map it is refused
            items = {"type": "null"} if items == _NOTHING else _or_null(items)
        return {"type": "array", "items": items}
    if isinstance(t, Object):
        props = {p.name: _property(p) for p in t.properties}
        required = [p.name for p in t.properties if p.required]
        found: JsonSchema = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            found["required"] = required
        return found
    if isinstance(t, Map):
        return {"type": "object", "additionalProperties": _value(t.value_type)}
    if isinstance(t, AnyType):
        return {}
    raise TypeError(f"not a column type: {t!r}")


def _property(p: Any) -> JsonSchema:
    schema = _value(p.dtype)
    return schema if p.required else _or_null(schema)


def _or_null(schema: JsonSchema) -> JsonSchema:
    kind = schema.get("type")
    if not schema:
        return schema  # anything already includes null
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list):
        return schema if "null" in kind else {**schema, "type": [*kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def element_schema(dtype: np.dtype) -> JsonSchema:
    """One element of a tensor of ``dtype`` in JSON."""
    if dtype.kind == "f":
        return {"type": ["number", "null"]}
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return {"type": "integer", "minimum": int(info.min), "maximum": int(info.max)}
    if dtype.kind == "b":
        return {"type": "boolean"}
    if dtype.kind == "S":
        return {"type": "string", "contentEncoding": "base64"}
    if dtype.kind in "UM":
        return {"type": "string"}
    return {}


def tensor_schema(spec: TensorSpec, *, batch: bool = True) -> JsonSchema:
    """Nested arrays holding a tensor of ``spec``'s dtype and shape (``-1``: any length).

    ``batch=False`` leaves out the first (batch) dimension: one row of an ``instances`` list.
    """
    shape = spec.shape if batch else spec.shape[1:]
    schema = element_schema(spec.dtype)
    for size in reversed(shape):
        schema = {"type": "array", "items": schema}
        if size >= 0:
            schema["minItems"] = schema["maxItems"] = size
    return schema


def param_schema(spec: ParamSpec) -> JsonSchema:
    """A param's value: its type (a list of them for shape ``[-1]``), with its default."""
    t = spec.dtype
    if t in _INT_RANGES:
        low, high = _INT_RANGES[t]
        one: JsonSchema = {"type": "integer", "minimum": low, "maximum": high}
    elif t in (DataType.float, DataType.double):
        one = {"type": "number"}  # a param is checked as it is: no null for NaN
    else:
        one = dict(_SCALARS[t])
    schema = one if spec.shape is None else {"type": "array", "items": one}
    default = spec.to_dict().get("default")
    if default is not None:
        schema["default"] = default
    return schema


def params_schema(params: ParamSchema | None) -> JsonSchema:
    """The ``params`` object: the declared params (others are ignored, as MLflow does)."""
    schema: JsonSchema = {"type": "object"}
    if params is not None:
        schema["properties"] = {p.name: param_schema(p) for p in params.params}
    schema["description"] = (
        "Inference params passed to the model's predict; params the model does not declare "
        "are ignored (with a warning in the server log), as in MLflow."
    )
    return schema

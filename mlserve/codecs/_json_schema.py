"""JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the request bodies the codecs accept.

One function per question a document asks: what one value of a column may be in a JSON body
(:func:`value_schema`), what a tensor may be (:func:`tensor_schema`), a param
(:func:`param_schema`), and the ``/invocations`` JSON body for a model's decoding plan
(:func:`json_body_forms`: ``dataframe_split``, ``dataframe_records``, ``instances``, ``inputs``,
each with the optional ``params``, and MLflow's unwrapped LLM body when the plan reads one).

The schemas say what the decoder accepts for the declared columns, written from the same
rules (:mod:`mlserve.codecs._json_input`, :mod:`mlserve.codecs._tabular`): a ``double`` takes a
number or ``null`` (read as NaN), a ``binary`` a base64 string, a ``datetime`` an ISO 8601
string, a ``string`` or ``datetime`` column (as MLflow passes it) and an optional column also
``null``. What JSON Schema cannot say (a row has as many values as ``columns`` names, the lists
of columnar ``inputs`` have one length) is in the descriptions; a body that breaks it is
answered 400.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlserve.codecs._json_input import INPUT_KEYS, LLM_KEYS, PARAMS_KEY
from mlserve.codecs._plan import DecodePlan
from mlserve.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    TensorSpec,
)

__all__ = ["json_body_forms", "param_schema", "params_schema", "tensor_schema", "value_schema"]

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
_NAME = {"type": ["string", "integer"]}


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


def _element(dtype: np.dtype) -> JsonSchema:
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
    schema = _element(spec.dtype)
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


def json_body_forms(plan: DecodePlan) -> dict[str, JsonSchema]:
    """The accepted JSON bodies of ``/invocations`` for a model, by form name.

    Keys: ``dataframe_split``, ``dataframe_records``, ``instances``, ``inputs`` (each an object
    with that one key and the optional ``params``) and ``llm`` when the plan reads MLflow's
    unwrapped LLM bodies.
    """
    params = params_schema(plan.params_schema)
    shapes = _input_shapes(plan)
    forms: dict[str, JsonSchema] = {}
    for key in INPUT_KEYS:
        if key not in shapes:  # a shape this signature cannot be sent as
            continue
        forms[key] = {
            "type": "object",
            "required": [key],
            "properties": {key: shapes[key], PARAMS_KEY: params},
            "additionalProperties": False,
        }
    if plan.llm:
        forms["llm"] = _llm_body(plan)
    return forms


def _input_shapes(plan: DecodePlan) -> dict[str, JsonSchema]:
    schema = plan.schema
    if schema is None or plan.kind == "none":
        return _untyped_shapes()
    if plan.kind == "columns":
        return _column_shapes([s for s in schema.inputs if isinstance(s, ColSpec)])
    return _tensor_shapes([s for s in schema.inputs if isinstance(s, TensorSpec)])


def _split(row_value: JsonSchema, names: JsonSchema, required: int = 0) -> JsonSchema:
    """``dataframe_split``; ``required`` > 0: ``columns`` must name at least that many (the
    signature's required columns, matched by name, so ``columns`` cannot be left out)."""
    columns: JsonSchema = {"type": "array", "items": names, "uniqueItems": True}
    if required:
        columns["minItems"] = required
    return {
        "type": "object",
        "required": ["columns", "data"] if required else ["data"],
        "properties": {
            "columns": columns,
            "data": {
                "type": "array",
                "items": {"type": "array", "items": row_value},
                "description": "rows, each with one value per name of 'columns'",
            },
            "index": {"type": "array", "items": {"type": ["string", "number"]}},
        },
        "additionalProperties": False,
    }


def _untyped_shapes() -> dict[str, JsonSchema]:
    record = {"type": "object"}
    return {
        "dataframe_split": _split({}, _NAME),
        "dataframe_records": {"type": "array", "items": record},
        "instances": {"type": "array"},
        "inputs": {"type": ["array", "object"]},
    }


def _union(schemas: list[JsonSchema]) -> JsonSchema:
    distinct: list[JsonSchema] = []
    for s in schemas:
        if s not in distinct:
            distinct.append(s)
    return distinct[0] if len(distinct) == 1 else {"anyOf": distinct}


def _column_shapes(specs: list[ColSpec]) -> dict[str, JsonSchema]:
    values = [value_schema(s.type, nullable=not s.required) for s in specs]
    any_value = _union(values)
    named = [s for s in specs if s.name is not None]
    if not named:  # unnamed columns are matched by position
        rows = {"type": "array", "prefixItems": values, "items": False}
        return {
            "dataframe_split": _split(any_value, _NAME),
            "dataframe_records": {"type": "array", "items": {"type": "object"}},
            "instances": {"type": "array", "items": rows},
            "inputs": {"type": "array", "items": rows},
        }
    names = [str(s.name) for s in named]
    # a label matches a name by value and type, as in MLflow: 0 is not "0". JSON object keys
    # are strings, so an object (a record, columnar inputs) holds only the string-named columns
    keyed = [(s.name, v) for s, v in zip(named, values, strict=True) if isinstance(s.name, str)]
    required = [s.name for s in named if s.required]
    record: JsonSchema = {
        "type": "object",
        "properties": dict(keyed),
        "description": "one row; keys the signature does not declare are ignored",
    }
    columnar: JsonSchema = {
        "type": "object",
        "properties": {n: {"anyOf": [{"type": "array", "items": v}, v]} for n, v in keyed},
        "description": "one list of values per column, all of one length",
    }
    if required:
        record["required"] = columnar["required"] = [str(n) for n in required]
    if any(not isinstance(n, str) for n in required):
        record = columnar = False  # type: ignore[assignment]  # no JSON object can hold them
    # rows are labelled by position 0..n-1 (MLflow's pd.DataFrame(rows)): they fit a signature
    # named 0..n-1 (extra values dropped) and no other named one
    one_row: JsonSchema = {
        "type": "array",
        "prefixItems": values,
        "minItems": len(required),
        "description": f"one row, its values in the order of the names ({', '.join(names)})",
    }
    # no rows means no columns, so a signature with required columns needs one row
    least = {"minItems": 1} if required else {}
    records = {"type": "array", "items": record, **least}
    fit = [s.name for s in named] == list(range(len(named)))
    row_lists = [{"type": "array", "items": one_row, **least}] if fit else []
    # MLflow reads any list for a one-column signature as that column's values
    one_column = [{"type": "array", "items": values[0], **least}]
    served_rows = one_column if len(values) == 1 else row_lists
    shapes = {
        "dataframe_split": _split(any_value, {"enum": [s.name for s in named]}, len(required)),
        "dataframe_records": _union([records, *row_lists]),
        "instances": _union([records, *served_rows]),
        # MLflow's _cast_schema_type reads a list of objects as rows of named values
        "inputs": _union([columnar, records, *served_rows]),
    }
    if any(isinstance(s.type, (Array, Object)) for s in specs):
        # instances makes each key one numpy array, which MLflow refuses for these columns
        if served_rows:
            shapes["instances"] = _union(served_rows)
        else:
            del shapes["instances"]
    return shapes


def _tensor_shapes(specs: list[TensorSpec]) -> dict[str, JsonSchema]:
    named = [s for s in specs if s.name is not None]
    if len(named) > 1:
        names = [str(s.name) for s in named]
        row_objects = {
            "type": "object",
            "properties": {
                n: tensor_schema(s, batch=False) for n, s in zip(names, named, strict=True)
            },
            "required": names,
        }
        tensors = {
            "type": "object",
            "properties": {n: tensor_schema(s) for n, s in zip(names, named, strict=True)},
            "required": names,
        }
        return {
            "dataframe_split": _split({}, {"enum": names}),
            "dataframe_records": {"type": "array", "items": {"type": "object"}},
            "instances": {"type": "array", "items": row_objects},
            "inputs": tensors,
        }
    only = specs[0]
    whole = tensor_schema(only)
    one_row = tensor_schema(only, batch=False)
    inputs: JsonSchema = whole
    if only.name is not None:
        inputs = {"anyOf": [whole, {"type": "object", "properties": {str(only.name): whole}}]}
    return {
        "dataframe_split": _split(_element(only.dtype), _NAME),
        "dataframe_records": {"type": "array", "items": {"type": "object"}},
        "instances": {"type": "array", "items": one_row} if only.shape else {"type": "array"},
        "inputs": inputs,
    }


def _llm_body(plan: DecodePlan) -> JsonSchema:
    """MLflow's unwrapped LLM body: the declared columns and params at the top level."""
    specs = [s for s in plan.schema.inputs if isinstance(s, ColSpec)] if plan.schema else []
    props: dict[str, JsonSchema] = {
        str(s.name): value_schema(s.type, nullable=not s.required)
        for s in specs
        if s.name is not None
    }
    if plan.params_schema is not None:
        props.update({p.name: param_schema(p) for p in plan.params_schema.params})
    present = [k for k in LLM_KEYS if k in props]
    return {
        "type": "object",
        "properties": props,
        "anyOf": [{"required": [k]} for k in present],
        "description": (
            "MLflow's unwrapped LLM request: the columns and params at the top level; "
            "answered with the bare predictions"
        ),
    }

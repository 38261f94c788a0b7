"""JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the ``/invocations`` JSON bodies a
model's decoding plan accepts (:func:`json_body_forms`: ``dataframe_split``,
``dataframe_records``, ``instances``, ``inputs``, each with the optional ``params``, and MLflow's
unwrapped LLM body when the plan reads one), built from the value, tensor and param schemas of
:mod:`mlserve.codecs._json_schema`.

What JSON Schema cannot say (a row has as many values as ``columns`` names, the lists of
columnar ``inputs`` have one length) is in the descriptions; a body that breaks it is answered
400.
"""

from __future__ import annotations

from mlserve.codecs._json_input import INPUT_KEYS, LLM_KEYS, PARAMS_KEY
from mlserve.codecs._json_schema import (
    NAME,
    JsonSchema,
    element_schema,
    param_schema,
    params_schema,
    tensor_schema,
    value_schema,
)
from mlserve.codecs._plan import DecodePlan
from mlserve.schema import AnyType, Array, ColSpec, Map, Object, TensorSpec

__all__ = ["json_body_forms"]


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
        "dataframe_split": _split({}, NAME),
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
            "dataframe_split": _split(any_value, NAME),
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
    kinds = {s.name: type(s.type) for s in named}
    columnar: JsonSchema = {
        "type": "object",
        "properties": {n: _columnar_value(kinds[n], v) for n, v in keyed},
        "description": (
            "one list of values per column, all of one length; a single value is repeated "
            "down the lists' rows (single values only: one row)"
        ),
    }
    if required:
        record["required"] = columnar["required"] = [str(n) for n in required]
    if any(not isinstance(n, str) for n in required):
        record = columnar = False  # type: ignore[assignment]  # no JSON object can hold them
    elif any(kinds[n] is Map for n in required):
        columnar = False  # type: ignore[assignment]  # a map column cannot be sent so
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


def _columnar_value(kind: type, value: JsonSchema) -> JsonSchema | bool:
    """A column's entry in an object of columns: its values' list, or one value. A map column
    takes neither (MLflow casts the list as one map, and reads a map's keys as row labels),
    nor does an ``Any`` column take an object."""
    if kind is Map:
        return False
    one = {"not": {"type": "object"}} if kind is AnyType else value
    return {"anyOf": [{"type": "array", "items": value}, one]}


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
        "dataframe_split": _split(element_schema(only.dtype), NAME),
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

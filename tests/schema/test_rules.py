"""One rule per column, two paths: a value decoded from a request body and the same value in a
DataFrame given to ``load_model(...).predict`` get the same answer (type and message), because
both are judged by the column's :class:`~mlserve.schema.rules.ColumnRule`."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlserve.codecs import RequestDecoder
from mlserve.errors import InvalidColumnValue, MlserveError, SchemaMismatch
from mlserve.schema import ColSpec, Schema, SchemaEnforcer, TensorSpec
from mlserve.schema.rules import ColumnRule, rule_for

# (id, declared type, one column's values, what the message says was found)
SAME_MISTAKE = [
    ("integer-out-of-range", "integer", [2**40], "an integer out of range for integer"),
    ("long-out-of-range", "long", [1, 2**64], "an integer out of range for long"),
    ("double-past-float64", "double", [10**400], "a number out of range for double"),
    ("boolean-for-double", "double", [True], "a boolean"),
    ("boolean-for-long", "long", [False], "a boolean"),
    ("datetime-now", "datetime", ["2024-01-01", " Now"], "'now' or 'today'"),
    ("datetime-not-iso", "datetime", ["yesterday at 5"], "a string that is not an ISO 8601"),
    ("string-for-double", "double", ["1.5"], "a string"),
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
    decoded = rule.type_values(["2024-01-02T03:04:05Z", None])
    in_process = SchemaEnforcer(Schema([ColSpec("datetime", "t", required=False)]))(
        pd.DataFrame({"t": ["2024-01-02T03:04:05Z", None]})
    )
    assert decoded.unit == in_process["t"].array.unit == "ns"
    assert list(decoded) == list(in_process["t"])


def test_type_values_keeps_what_it_cannot_judge_for_the_enforcer() -> None:
    # a string in a long column is not this step's to refuse: the enforcer names it
    out = ColumnRule("int", np.dtype("int64"), "n").type_values(["x"])
    assert list(out) == ["x"]


def test_rows_of_the_wrong_width_get_one_answer_on_both_paths() -> None:
    schema = Schema([ColSpec("double", n) for n in "abcd"])
    with pytest.raises(SchemaMismatch) as local:
        SchemaEnforcer(schema)([[1.0, 2.0, 3.0]])
    with pytest.raises(SchemaMismatch) as wire:
        RequestDecoder(schema).decode(b'{"inputs": [[1.0, 2.0, 3.0]]}', "application/json")
    assert str(local.value) == str(wire.value)
    assert "expected rows of 4 values (a, b, c, d), found rows of 3 values" in str(wire.value)

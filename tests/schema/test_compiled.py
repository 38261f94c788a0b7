"""The compiled schema: one instance per schema object, the rules every path reads."""

from __future__ import annotations

import gc
import json

import numpy as np
import pandas as pd
import pytest

from mlserve.codecs import RequestDecoder
from mlserve.errors import InvalidColumnValue, InvalidParams, SchemaMismatch
from mlserve.schema import (
    ColSpec,
    ParamSchema,
    ParamSpec,
    Schema,
    SchemaEnforcer,
    TensorSpec,
    _compiled,
)
from mlserve.schema._compiled import compile_schema
from mlserve.schema._rules import ANY

PARAMS = ParamSchema([ParamSpec("k", "long", 1)])


def test_one_instance_per_schema_object_and_params_object() -> None:
    schema = Schema([ColSpec("double", "a")])
    compiled = compile_schema(schema, PARAMS)
    assert compile_schema(schema, PARAMS) is compiled
    # other params, or none: another compilation of the same schema
    without = compile_schema(schema)
    assert without is not compiled and without.params is None
    assert compile_schema(schema) is without
    # an equal schema that is another object compiles its own: identity, not equality
    twin = Schema([ColSpec("double", "a")])
    assert twin == schema and compile_schema(twin, PARAMS) is not compiled


def test_params_without_inputs_and_nothing_at_all() -> None:
    compiled = compile_schema(None, PARAMS)
    assert compiled is compile_schema(None, PARAMS)
    assert compiled.kind == "none" and compiled.rules == () and compiled.params is not None
    assert compiled.enforce_params({"k": 2}) == {"k": 2}
    # lenient by default, as PyFuncModel.predict and the server are: an unknown name is dropped
    assert compiled.enforce_params({"k": 2, "zzz": 1}) == {"k": 2}
    with pytest.raises(InvalidParams):  # a float for a long param, as MLflow refuses it
        compiled.enforce_params({"k": 2.0})
    nothing = compile_schema(None, None)
    assert nothing is compile_schema(None) and nothing.kind == "none"
    assert nothing.params is None and nothing.enforce_params(None) == {}
    assert nothing.default is ANY


def test_forgotten_when_nothing_holds_it() -> None:
    """The cache holds no schema and no compilation alive: a model's rules go with it."""
    schema = Schema([ColSpec("double", "gone")])
    compiled = compile_schema(schema)
    key = id(schema)
    assert key in _compiled._CACHE
    del schema, compiled
    gc.collect()
    compile_schema(None, PARAMS)  # the next compilation purges what died
    assert key not in _compiled._CACHE


def test_a_compilation_dying_while_the_lock_is_held_does_not_deadlock() -> None:
    """The garbage collector may run a weakref callback in this thread while compile_schema
    holds its lock: the callback only notes the key."""
    schema = Schema([ColSpec("double", "dies")])
    compiled = compile_schema(schema)
    with _compiled._LOCK:
        del compiled
        gc.collect()  # the callback runs here, under the lock; it must not wait for it
    assert id(schema) in _compiled._DEAD  # noted, purged by the next compilation
    held = compile_schema(schema)
    assert compile_schema(schema) is held and id(schema) not in _compiled._DEAD


def test_column_schema_is_compiled_once_into_its_parts() -> None:
    schema = Schema([ColSpec("double", 0), ColSpec("long", "b", required=False)])
    compiled = compile_schema(schema)
    assert compiled.kind == "columns" and compiled.named
    assert compiled.names == ("0", "b")
    assert [r.name for r in compiled.rules] == ["0", "b"]
    # data labels match by value and type: the integer 0, not "0"
    assert compiled.labels == (0, "b")
    assert dict(compiled.by_name) == dict(zip((0, "b"), compiled.rules, strict=True))
    assert list(compiled.index) == [0, "b"]  # the labels the model sees, typed as declared
    assert compiled.required == frozenset({"0"})
    assert compiled.exact == (np.dtype("float64"), np.dtype("int64"))
    assert compiled.uniform is None and not compiled.dict_is_row and not compiled.llm
    assert compiled.default is ANY
    assert repr(compiled) == "CompiledSchema(columns, names=['0', 'b'])"
    same = compile_schema(Schema([ColSpec("double", "x"), ColSpec("double", "y")]))
    assert same.uniform == np.dtype("float64")


def test_unnamed_columns_are_named_by_position_on_both_paths() -> None:
    """An unnamed column's rule says its position, whether the decoder or the enforcer
    refuses the value: one message for one mistake."""
    schema = Schema([ColSpec("float"), ColSpec("float")])
    compiled = compile_schema(schema)
    assert not compiled.named and compiled.by_name == {}
    assert [r.name for r in compiled.rules] == ["0", "1"]
    decoder = RequestDecoder(schema)
    assert decoder.plan.by_position == compiled.rules
    body = json.dumps({"inputs": [[1.0, 1e300]]}).encode()
    with pytest.raises(InvalidColumnValue) as over_http:
        decoder.decode(body, "application/json")
    with pytest.raises(InvalidColumnValue) as in_process:
        SchemaEnforcer(schema)(pd.DataFrame({"0": [1.0], "1": [1e300]}))
    assert str(over_http.value) == str(in_process.value)
    assert "column '1'" in str(in_process.value)


@pytest.mark.parametrize(
    ("inputs", "kind", "names", "default_name"),
    [
        ([TensorSpec(np.dtype("float32"), (-1, 2))], "tensor", (), None),
        ([TensorSpec(np.dtype("float32"), (-1, 2), "x")], "tensors", ("x",), "x"),
        (
            [
                TensorSpec(np.dtype("float32"), (-1,), "x"),
                TensorSpec(np.dtype("int64"), (-1,), "y"),
            ],
            "tensors",
            ("x", "y"),
            "x",
        ),
    ],
    ids=["unnamed", "one-named", "two-named"],
)
def test_tensor_schemas(inputs: list, kind: str, names: tuple, default_name: str | None) -> None:
    schema = Schema(inputs)
    compiled = compile_schema(schema, PARAMS)
    assert compiled.kind == kind and compiled.converters == ()
    assert compiled.params_schema is PARAMS and compile_schema(schema, PARAMS) is compiled
    assert tuple(r.name for r in compiled.rules if r.name is not None) == names
    assert compiled.default is compiled.rules[0] and compiled.default.name == default_name
    plan = RequestDecoder(Schema(inputs)).plan
    assert plan.names == names


def test_llm_and_dict_is_row_flags() -> None:
    from mlserve.schema import Array

    chat = compile_schema(Schema([ColSpec(Array("string"), "messages")]))
    assert chat.llm and chat.dict_is_row
    unnamed = compile_schema(Schema([ColSpec("string")]))
    assert not unnamed.llm


def test_an_enforcer_needs_an_input_schema() -> None:
    with pytest.raises(TypeError):
        SchemaEnforcer(compile_schema(None, PARAMS))


def test_out_of_range_tensor_value_is_a_plain_mismatch() -> None:
    decoder = RequestDecoder(Schema([TensorSpec(np.dtype("float32"), (-1,))]))
    with pytest.raises(SchemaMismatch) as info:
        decoder.decode(json.dumps({"inputs": [1e300]}).encode(), "application/json")
    assert not isinstance(info.value, InvalidColumnValue)

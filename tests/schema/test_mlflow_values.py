"""One value under a param's and a nested field's rule, held against real MLflow's answer.

Params convert their values with the columns' rule (``mlserve/schema/_scalar_values.py``),
nested fields with MLflow's dtype rule (``mlserve/schema/_nested_values.py``); where either
converts otherwise than a column, ``DIFFERENCES`` says why, citing MLflow. Each case below is
put to MLflow 3.17.2 itself (its ``_enforce_params_schema`` and ``_enforce_schema``, the
functions ``PyFuncModel.predict`` and ``mlflow models serve`` call) in its own virtualenv, and
to us: ``SAME`` cases must get MLflow's answer (accepted with the same Python type and value,
a list's items' types too, or refused), ``DIFFERENT`` cases the answer we give on purpose (each
with its reason; the wire ones are also in docs/rest-api.md's table, the nested ones in
docs/signatures.md section 5).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import textwrap
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pytest
from store.mlflow._mlflow_peer import peer_python

from mlserve.errors import MlserveError
from mlserve.schema import (
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    Property,
    Schema,
    SchemaEnforcer,
)
from mlserve.schema._params import convert_param_value
from mlserve.schema._scalar_values import DIFFERENCES

pytestmark = pytest.mark.slow


class Case(NamedTuple):
    # "param", "array" (an Array(type) column's one item), "items" (the value is the items
    # list), "object" (an Object's property) or "map" (a Map's value)
    where: str
    type: str
    value: str  # Python source, evaluated alike on both sides (datetime as dt, numpy as np)


SAME: dict[str, Case] = {
    "param-long": Case("param", "long", "3"),
    "param-int-for-double": Case("param", "double", "1"),
    "param-int-for-float": Case("param", "float", "1"),
    "param-numpy-int": Case("param", "long", "np.int32(3)"),
    "param-numpy-float": Case("param", "double", "np.float32(1.5)"),
    "param-boolean-for-long": Case("param", "long", "True"),
    "param-boolean-for-double": Case("param", "double", "True"),
    "param-int-for-boolean": Case("param", "boolean", "1"),
    "param-int-for-string": Case("param", "string", "1"),
    "param-string-for-long": Case("param", "long", "'3'"),
    # DIFFERENCES[param, long/integer]: a float is refused, integral or not, as MLflow
    "param-whole-float-for-long": Case("param", "long", "3.0"),
    "param-whole-float-for-integer": Case("param", "integer", "3.0"),
    # DIFFERENCES[param, float]: no float32 range check, as MLflow
    "param-float-past-float32": Case("param", "float", "1e300"),
    # DIFFERENCES[param, datetime]: MLflow's Python form, not a Timestamp
    "param-date-string": Case("param", "datetime", "'2024-01-02'"),
    "param-datetime-string": Case("param", "datetime", "'2024-01-02T03:04:05'"),
    "param-datetime-zone": Case("param", "datetime", "'2024-01-02T03:04:05+01:00'"),
    "param-date-before-1677": Case("param", "datetime", "'1500-01-02'"),
    "param-datetime-object": Case("param", "datetime", "dt.datetime(2024, 1, 2, 3, 4, 5)"),
    "param-date-object": Case("param", "datetime", "dt.date(2024, 1, 2)"),
    "param-not-a-datetime": Case("param", "datetime", "'soon'"),
    "param-int-for-datetime": Case("param", "datetime", "5"),
    "nested-long": Case("array", "long", "3"),
    "nested-int-for-double": Case("array", "double", "1"),
    "nested-boolean-for-long": Case("array", "long", "True"),
    "nested-boolean-for-double": Case("array", "double", "True"),
    "nested-int-for-boolean": Case("array", "boolean", "1"),
    "nested-int-for-string": Case("array", "string", "1"),
    "nested-string-for-long": Case("array", "long", "'3'"),
    "nested-long-out-of-range": Case("array", "long", "2**63"),
    "nested-integer-out-of-range": Case("array", "integer", "2**40"),
    "nested-float-past-float32": Case("array", "float", "1e300"),
    "nested-int-for-datetime": Case("array", "datetime", "5"),
    # a datetime column's nanosecond range (MLflow: "Can not safely convert ... datetime64[ns]")
    "nested-date-before-1677": Case("array", "datetime", "dt.datetime(1500, 1, 2)"),
    # DIFFERENCES[nested, *]: MLflow's dtype rule, a Series of the nested values
    # ... double: an integer only as 0 or 1, unless floats make the array float64
    "nested-two-for-double": Case("array", "double", "2"),
    "nested-minus-three-for-double": Case("array", "double", "-3"),
    "nested-zeros-and-ones-for-double": Case("items", "double", "[0, 1]"),
    "nested-one-and-two-for-double": Case("items", "double", "[1, 2]"),
    "nested-int-among-floats-for-double": Case("items", "double", "[2, 2.5]"),
    "nested-null-among-ints-for-double": Case("items", "double", "[2, None]"),
    "nested-nulls-for-double": Case("items", "double", "[None, None]"),
    # numbers written as text among numbers: an object Series, read by pd.to_numeric (as a
    # double column reads them); text alone is a str Series, which MLflow refuses
    "nested-numeric-string-among-doubles": Case("items", "double", "[1, '2']"),
    "nested-numeric-strings-for-double": Case("items", "double", "['2', ' 2.5 ']"),
    "nested-text-among-doubles": Case("items", "double", "[1, 'x']"),
    "nested-numeric-string-for-double-property": Case("object", "double", "'2'"),
    "nested-null-for-float": Case("items", "float", "[None]"),
    "nested-nan-for-float": Case("items", "float", "[float('nan')]"),
    "nested-nulls-for-datetime": Case("items", "datetime", "[None]"),
    "nested-one-for-double-property": Case("object", "double", "1"),
    "nested-two-for-double-property": Case("object", "double", "2"),
    "nested-minus-three-for-double-value": Case("map", "double", "-3"),
    "nested-fraction-for-double-value": Case("map", "double", "1.5"),
    # ... float: float64 and int64 are wider than float32 (0 and 1 excepted)
    "nested-fraction-for-float": Case("array", "float", "1.5"),
    "nested-one-for-float": Case("array", "float", "1"),
    "nested-two-for-float": Case("array", "float", "2"),
    "nested-float32-for-float": Case("array", "float", "np.float32(1.5)"),
    "nested-fraction-for-float-property": Case("object", "float", "1.5"),
    "nested-one-for-float-value": Case("map", "float", "1"),
    # ... long: a float is refused, 2.0 too, and a null among integers (a float64 Series)
    "nested-whole-float-for-long": Case("array", "long", "2.0"),
    "nested-null-among-ints-for-long": Case("items", "long", "[1, None]"),
    "nested-whole-float-for-long-property": Case("object", "long", "2.0"),
    "nested-long-property": Case("object", "long", "2"),
    "nested-whole-float-for-long-value": Case("map", "long", "2.0"),
    "nested-long-value": Case("map", "long", "3"),
    # ... integer: a Python int is int64, wider than int32
    "nested-two-for-integer": Case("array", "integer", "2"),
    "nested-int32-for-integer": Case("array", "integer", "np.int32(2)"),
    "nested-two-for-integer-property": Case("object", "integer", "2"),
    # ... datetime: no string, and in an object or a map no datetime or date either; an
    # array's datetimes are integer nanoseconds
    "nested-date-string": Case("array", "datetime", "'2024-01-02'"),
    "nested-datetime-object": Case("array", "datetime", "dt.datetime(2024, 1, 2, 3)"),
    "nested-date-object": Case("array", "datetime", "dt.date(2024, 1, 2)"),
    "nested-aware-datetime": Case("array", "datetime", "pd.Timestamp('2024-01-02', tz='UTC')"),
    "nested-date-string-property": Case("object", "datetime", "'2024-01-02'"),
    "nested-datetime-property": Case("object", "datetime", "dt.datetime(2024, 1, 2)"),
    "nested-numpy-datetime-value": Case("map", "datetime", "np.datetime64('2024-01-02')"),
    "nested-null-among-datetimes": Case("items", "datetime", "[dt.datetime(2024, 1, 2), None]"),
    # ... binary: a string kept as text in an object or a map, ASCII-encoded in an array
    "nested-string-for-binary-property": Case("object", "binary", "'YWI='"),
    "nested-string-for-binary-value": Case("map", "binary", "'YWI='"),
    "nested-string-in-binary-array": Case("items", "binary", "['YWI=']"),
    "nested-string-among-bytes": Case("items", "binary", "[b'a', 'b']"),
    # and what is the same as a column: booleans, strings
    "nested-boolean-property": Case("object", "boolean", "True"),
    "nested-string-value": Case("map", "string", "'a'"),
}

# case -> (our answer: True accepted / False refused, why we differ from MLflow on purpose)
DIFFERENT: dict[str, tuple[Case, bool, str]] = {
    "param-long-out-of-range": (
        Case("param", "long", "2**63"),
        False,
        "range-checked as a long column is (it would wrap in the model); MLflow passes it",
    ),
    "param-integer-out-of-range": (
        Case("param", "integer", "2**40"),
        False,
        "range-checked as an integer column is; MLflow passes it",
    ),
    "param-now": (
        Case("param", "datetime", "'now'"),
        False,
        "'now'/'today' are refused for every datetime (the clock is not a date a client "
        "sent); MLflow's numpy parse gives the current time",
    ),
    "nested-null-among-booleans": (
        Case("items", "boolean", "[True, None]"),
        False,
        "a null in a required column's array of booleans is refused (kept as None in an "
        "optional one); MLflow makes it False",
    ),
    "nested-null-among-strings": (
        Case("items", "string", "['a', None]"),
        False,
        "a null in a required column's array of strings is refused (kept as None in an "
        "optional one); MLflow cuts every string of the array to one character, the null "
        "becoming 'n'",
    ),
    # mixed kinds in one array: MLflow's object Series is converted whole (pd.to_numeric for a
    # double, numpy's dtype cast otherwise); refused as in a column, where a boolean is not a
    # number (docs/signatures.md section 5) and a column mixing kinds is refused
    "nested-boolean-among-doubles": (
        Case("items", "double", "[True, 2.5]"),
        False,
        "a boolean is not a number, as in a double column; MLflow makes True 1.0",
    ),
    "nested-int-among-booleans": (
        Case("items", "boolean", "[True, 1]"),
        False,
        "an integer is not a boolean, as in a boolean column; MLflow makes 1 True",
    ),
    "nested-bytes-for-string": (
        Case("items", "string", "[b'xy']"),
        False,
        "bytes are not text, as in a string column; MLflow decodes them in an array",
    ),
    "nested-bytes-for-string-property": (
        Case("object", "string", "b'xy'"),
        False,
        "bytes are not text, as in a string column; MLflow passes them on in an object or map",
    ),
    "nested-null-among-binary": (
        Case("items", "binary", "[b'ab', None]"),
        False,
        "a null in a required column's array of bytes is refused (kept as None in an optional "
        "one); MLflow makes it b'None'",
    ),
}

MLFLOW_SIDE = textwrap.dedent(
    """
    import datetime as dt, json, sys, warnings
    import numpy as np, pandas as pd
    warnings.simplefilter("ignore")
    from mlflow.models.utils import _enforce_params_schema, _enforce_schema
    from mlflow.types.schema import (
        Array, ColSpec, DataType, Map, Object, ParamSchema, ParamSpec, Property, Schema,
    )
    def _type(got):  # a list's item types too: MLflow's tolist() gives Python values
        if isinstance(got, list):
            return "list[" + ",".join(type(v).__name__ for v in got) + "]"
        return type(got).__name__
    out = {}
    for key, (where, type_, source) in json.loads(sys.stdin.read()).items():
        value = eval(source)
        try:
            if where == "param":
                spec = ParamSpec("x", type_, None)
                got = _enforce_params_schema({"x": value}, ParamSchema([spec]))["x"]
            elif where in ("array", "items"):
                schema = Schema([ColSpec(Array(DataType[type_]), "a")])
                items = [value] if where == "array" else value
                got = _enforce_schema(pd.DataFrame({"a": [items]}), schema)["a"][0]
                got = got[0] if where == "array" else got
            elif where == "object":
                schema = Schema([ColSpec(Object([Property("p", DataType[type_])]), "a")])
                got = _enforce_schema(pd.DataFrame({"a": [{"p": value}]}), schema)["a"][0]["p"]
            else:
                schema = Schema([ColSpec(Map(DataType[type_]), "a")])
                got = _enforce_schema(pd.DataFrame({"a": [{"k": value}]}), schema)["a"][0]["k"]
            out[key] = {"ok": True, "type": _type(got), "value": repr(got)}
        except Exception as exc:
            out[key] = {"ok": False, "error": str(exc)[:200]}
    print(json.dumps(out))
    """
)


def _type(got: Any) -> str:
    """The type's name, and for a list its items' (MLflow's side writes them alike)."""
    if isinstance(got, list):
        return "list[" + ",".join(type(v).__name__ for v in got) + "]"
    return type(got).__name__


def _ours(case: Case) -> dict[str, Any]:
    value = eval(case.value, {"dt": dt, "np": np, "pd": pd})  # the source MLflow's side evaluates
    try:
        if case.where == "param":
            got = convert_param_value("x", value, DataType.parse(case.type), None)
        elif case.where in ("array", "items"):
            schema = Schema([ColSpec(Array(case.type), "a")])
            items = [value] if case.where == "array" else value
            got = SchemaEnforcer(schema)(pd.DataFrame({"a": [items]}))["a"][0]
            got = got[0] if case.where == "array" else got
        elif case.where == "object":
            schema = Schema([ColSpec(Object([Property("p", case.type)]), "a")])
            got = SchemaEnforcer(schema)(pd.DataFrame({"a": [{"p": value}]}))["a"][0]["p"]
        else:
            schema = Schema([ColSpec(Map(case.type), "a")])
            got = SchemaEnforcer(schema)(pd.DataFrame({"a": [{"k": value}]}))["a"][0]["k"]
    except MlserveError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "type": _type(got), "value": repr(got)}


@pytest.fixture(scope="module")
def mlflow_answers() -> dict[str, dict[str, Any]]:
    python = peer_python(3)  # skipped without it; a failure where MLflow is required
    cases = {**SAME, **{k: c for k, (c, _, _) in DIFFERENT.items()}}
    done = subprocess.run(
        [str(python), "-c", MLFLOW_SIDE],
        input=json.dumps({k: list(c) for k, c in cases.items()}),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    answers: dict[str, dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return answers


@pytest.mark.parametrize("key", list(SAME))
def test_same_answer_as_mlflow(key: str, mlflow_answers: dict[str, dict[str, Any]]) -> None:
    theirs, ours = mlflow_answers[key], _ours(SAME[key])
    assert ours["ok"] == theirs["ok"], (ours, theirs)
    if ours["ok"]:
        assert (ours["type"], ours["value"]) == (theirs["type"], theirs["value"])


@pytest.mark.parametrize("key", list(DIFFERENT))
def test_deliberate_difference_from_mlflow(
    key: str, mlflow_answers: dict[str, dict[str, Any]]
) -> None:
    case, accepted, _why = DIFFERENT[key]
    theirs, ours = mlflow_answers[key], _ours(case)
    assert ours["ok"] is accepted, ours
    # still a difference: if MLflow comes to agree, the case moves to SAME
    if ours["ok"] and theirs["ok"]:
        assert (ours["type"], ours["value"]) != (theirs["type"], theirs["value"])
    else:
        assert ours["ok"] != theirs["ok"], (ours, theirs)


def test_every_difference_of_the_rule_is_pinned() -> None:
    """Each entry of ``_scalar_values.DIFFERENCES`` is cited by a case held against MLflow."""
    cited = {
        ("param", DataType.float): "param-float-past-float32",
        ("param", DataType.long): "param-whole-float-for-long",
        ("param", DataType.integer): "param-whole-float-for-integer",
        ("param", DataType.datetime): "param-date-string",
        ("nested", DataType.double): "nested-two-for-double",
        ("nested", DataType.float): "nested-fraction-for-float",
        ("nested", DataType.long): "nested-whole-float-for-long",
        ("nested", DataType.integer): "nested-two-for-integer",
        ("nested", DataType.datetime): "nested-date-string",
        ("nested", DataType.binary): "nested-string-in-binary-array",
    }
    # a binary param cannot be declared in MLflow at all: there is no answer of its to hold
    # ours against, so the refusal of a string is pinned by tests/schema/test_params.py
    assert set(DIFFERENCES) == {*cited, ("param", DataType.binary)}
    assert all(key in SAME for key in cited.values())

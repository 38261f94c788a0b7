"""Signatures as real MLflow writes, infers and enforces them, held against mlserve.

tests/data/mlflow_signatures.json was written by MLflow 3.17.2 itself (see
tests/data/make_mlflow_fixtures.py): the JSON forms of integer column names and of the complex
types, what ``mlflow.models.infer_signature`` makes of example data, and what MLflow's schema
enforcement (the function ``PyFuncModel.predict`` calls) accepts, refuses and passes on.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlserve.errors import InvalidColumnValue, SchemaMismatch
from mlserve.schema import ModelSignature, Schema, SchemaEnforcer, infer_signature

FIXTURE = json.loads((Path(__file__).parents[1] / "data" / "mlflow_signatures.json").read_text())
SCHEMAS: dict[str, str] = FIXTURE["schemas"]
ENFORCED: list[dict[str, Any]] = FIXTURE["enforced"]
INFERRED: dict[str, dict[str, Any]] = FIXTURE["inferred"]

# (schema, case) -> why mlserve answers otherwise on purpose (docs/signatures.md, section 5)
DIFFERENT: dict[tuple[str, str], str] = {}
# cases MLflow refuses because a column is missing (INVALID_PARAMETER_VALUE); every other
# refusal is a value that does not fit its column (BAD_REQUEST, as MLflow's server answers)
MISSING = {("chat", "messages-missing"), ("int-names", "string-labels")}


def test_fixture_is_mlflow_3() -> None:
    assert FIXTURE["mlflow_version"].startswith("3.")


@pytest.mark.parametrize("text", list(SCHEMAS.values()), ids=list(SCHEMAS))
def test_mlflow_written_schema_round_trips_byte_for_byte(text: str) -> None:
    schema = Schema.from_json(text)
    assert schema.to_json() == text
    # and through the MLmodel form of a whole signature
    sig = ModelSignature.from_dict({"inputs": text})
    assert ModelSignature.from_dict(sig.to_dict()) == sig
    assert sig.to_dict()["inputs"] == text


def test_integer_names_keep_their_type() -> None:
    schema = Schema.from_json(SCHEMAS["int-names"])
    assert schema.input_names() == [0, 1, 2, 3]
    assert '"name": 0,' in schema.to_json()


def _example(case: dict[str, Any]) -> Any:
    if case["kind"] == "frame":  # stored as [label, values] pairs: JSON keys are strings
        return pd.DataFrame(dict(case["example"]))
    return case["example"]


@pytest.mark.parametrize("case_id", list(INFERRED), ids=list(INFERRED))
def test_inference_matches_mlflow(case_id: str) -> None:
    case = INFERRED[case_id]
    assert infer_signature(_example(case)).to_dict()["inputs"] == case["inputs"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    return value


def _frame(rows: Any) -> pd.DataFrame:
    return pd.DataFrame(**rows) if isinstance(rows, dict) else pd.DataFrame(rows)


@pytest.mark.parametrize("case", ENFORCED, ids=[f"{c['schema']}-{c['case']}" for c in ENFORCED])
def test_enforcement_matches_mlflow(case: dict[str, Any]) -> None:
    key = (case["schema"], case["case"])
    enforcer = SchemaEnforcer(Schema.from_json(SCHEMAS[case["schema"]]))
    frame = _frame(case["rows"])
    if key in DIFFERENT:
        assert not case["ok"], "MLflow now accepts this: drop the difference"
        enforcer(frame)  # we accept it, on purpose
        return
    if not case["ok"]:
        with pytest.raises(SchemaMismatch) as info:
            enforcer(frame)
        expected = SchemaMismatch if key in MISSING else InvalidColumnValue
        assert type(info.value) is expected, info.value
        return
    out = enforcer(frame)
    assert [str(c) for c in out.columns] == case["columns"]
    # through JSON, as the fixture went: integer labels become string keys there
    assert json.loads(json.dumps(_jsonable(out.to_dict(orient="records")))) == case["values"]
    names = Schema.from_json(SCHEMAS[case["schema"]]).input_names()
    assert all(c in names for c in out.columns)  # the signature's names, of their own type


def test_enforcement_leaves_the_callers_rows_alone() -> None:
    # MLflow converts nested dicts in place; the caller's data must come back as it went in
    rows = [{"ids": [1], "obj": {"k": np.int32(1), "tags": ("a",)}}]
    before = repr(rows)
    SchemaEnforcer(Schema.from_json(SCHEMAS["every-complex"]))(_frame(rows))
    assert repr(rows) == before

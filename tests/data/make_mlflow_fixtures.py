"""Generate the MLflow-written model directories under tests/data/mlflow_models/.

Run with an interpreter that has MLflow and the same scikit-learn as the test environment,
outside the repository's virtualenv, e.g.:

    python3 -m venv /tmp/mlflow-venv
    /tmp/mlflow-venv/bin/pip install mlflow-skinny scikit-learn==<version in .venv> pandas
    /tmp/mlflow-venv/bin/python tests/data/make_mlflow_fixtures.py

Each model directory gets an ``expected.json`` next to it: the input rows and the predictions
that ``mlflow.pyfunc.load_model(...).predict`` returned for them, which tests/test_mlflow_models.py
compares with mlserve's. The directories are committed as data; rerun this script only to
refresh them (e.g. for a new scikit-learn). Name fixtures to refresh only those:

    /tmp/mlflow-venv/bin/python tests/data/make_mlflow_fixtures.py sklearn_intcols signatures

``mlflow_signatures.json`` (the ``signatures`` fixture) holds signatures exactly as MLflow writes
them (integer column names, arrays, objects, maps, any, optional columns), what MLflow's
``infer_signature`` makes of example data, and what MLflow's schema enforcement (the function
``PyFuncModel.predict`` calls) does with sample rows: tests/schema/test_mlflow_signatures.py
holds mlserve to the same.
"""

from __future__ import annotations

import copy
import datetime
import json
import shutil
import sys
from pathlib import Path

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import sklearn
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

OUT = Path(__file__).parent / "mlflow_models"


def _save(name: str, model, data, **kwargs) -> None:
    target = OUT / name
    if target.exists():
        shutil.rmtree(target)
    mlflow.sklearn.save_model(model, str(target), **kwargs)
    predictions = mlflow.pyfunc.load_model(str(target)).predict(data)
    rows = data.to_dict(orient="split") if isinstance(data, pd.DataFrame) else {"data": data}
    (OUT / f"{name}.expected.json").write_text(
        json.dumps(
            {
                "mlflow_version": mlflow.__version__,
                "sklearn_version": sklearn.__version__,
                "columns": rows.get("columns"),
                "data": np.asarray(rows["data"]).tolist(),
                "predictions": np.asarray(predictions).tolist(),
            },
            indent=1,
        )
    )


def _jsonable(value):
    """Enforced values as JSON: numpy scalars and arrays as Python, datetimes as ISO strings."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, (datetime.datetime, datetime.date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    return value


# id -> the schema, built with MLflow's own classes
def _schemas():
    from mlflow.types.schema import AnyType, Array, ColSpec, DataType, Map, Object, Property, Schema

    message = Object(
        [
            Property("role", DataType.string),
            Property("content", DataType.string, required=False),
        ]
    )
    return {
        "int-names": Schema([ColSpec(DataType.double, i) for i in range(4)]),
        "chat": Schema(
            [
                ColSpec(Array(message), "messages"),
                ColSpec(DataType.double, "temperature", required=False),
            ]
        ),
        "every-complex": Schema(
            [
                ColSpec(Array(DataType.long), "ids"),
                ColSpec(Map(DataType.double), "weights", required=False),
                ColSpec(AnyType(), "extra", required=False),
                ColSpec(Array(Array(DataType.string)), "grid", required=False),
                ColSpec(
                    Object(
                        [
                            Property("k", DataType.long),
                            Property("tags", Array(DataType.string), required=False),
                            Property(
                                "inner", Object([Property("z", DataType.boolean)]), required=False
                            ),
                        ]
                    ),
                    "obj",
                    required=False,
                ),
                ColSpec(Array(Map(AnyType())), "maps", required=False),
            ]
        ),
    }


# (schema id, case id, rows as records): what MLflow's enforcement makes of them
_ENFORCED = [
    ("chat", "one-message", [{"messages": [{"role": "user", "content": "hi"}]}]),
    ("chat", "optional-content-missing", [{"messages": [{"role": "user"}]}]),
    ("chat", "empty-conversation", [{"messages": []}]),
    ("chat", "with-temperature", [{"messages": [{"role": "a"}], "temperature": 0.5}]),
    ("chat", "content-not-string", [{"messages": [{"role": "user", "content": 5}]}]),
    ("chat", "role-missing", [{"messages": [{"content": "x"}]}]),
    ("chat", "unknown-property", [{"messages": [{"role": "user", "extra": "x"}]}]),
    ("chat", "string-for-array", [{"messages": "hi"}]),
    ("chat", "null-for-required-array", [{"messages": None}]),
    ("chat", "null-message", [{"messages": [None]}]),
    ("chat", "null-role", [{"messages": [{"role": None}]}]),
    ("chat", "messages-missing", [{"temperature": 0.5}]),
    (
        "every-complex",
        "all-present",
        [
            {
                "ids": [1, 2],
                "weights": {"a": 0.5},
                "extra": [1, "x"],
                "grid": [["a"], []],
                "obj": {"k": 3, "tags": ["t"], "inner": {"z": True}},
                "maps": [{"a": 1}, {}],
            }
        ],
    ),
    ("every-complex", "only-required", [{"ids": []}]),
    ("every-complex", "optional-nulls", [{"ids": [1], "weights": None, "obj": None}]),
    ("every-complex", "empty-object-optional", [{"ids": [1], "obj": {}}]),
    ("every-complex", "optional-property-null", [{"ids": [1], "obj": {"k": 1, "inner": None}}]),
    ("every-complex", "fraction-in-long-array", [{"ids": [1.5]}]),
    ("every-complex", "string-in-long-array", [{"ids": ["x"]}]),
    ("every-complex", "boolean-in-long-array", [{"ids": [True]}]),
    ("every-complex", "string-map-value", [{"ids": [1], "weights": {"a": "x"}}]),
    ("every-complex", "list-for-map", [{"ids": [1], "weights": [1.0]}]),
    ("every-complex", "object-missing-k", [{"ids": [1], "obj": {"tags": []}}]),
    ("every-complex", "nested-wrong-type", [{"ids": [1], "obj": {"k": 1, "inner": {"z": 1}}}]),
    ("every-complex", "string-for-nested-array", [{"ids": [1], "grid": ["a"]}]),
    ("int-names", "int-labels", {"columns": [0, 1, 2, 3], "data": [[0.1, -0.2, 0.3, -0.4]]}),
    (
        "int-names",
        "string-labels",
        {"columns": ["0", "1", "2", "3"], "data": [[0.1, -0.2, 0.3, -0.4]]},
    ),
]

# id -> (how to build the example, the example): what MLflow's infer_signature makes of it
_INFERRED = {
    "chat-dict": ("dict", {"messages": [{"role": "user", "content": "hi"}]}),
    "chat-dict-with-scalar": ("dict", {"messages": [{"role": "user", "content": "hi"}], "t": 0.5}),
    "records-nested": ("records", [{"a": {"b": True}, "c": [1, 2]}, {"a": {"b": False}, "c": []}]),
    "frame-lists": ("frame", {"a": [[1, 2], []], "b": [None, [1.5]]}),
    "frame-objects-merge": ("frame", {"o": [{"x": 1}, {"x": None, "y": "s"}]}),
    "frame-object-or-null": ("frame", {"o": [{"x": 1}, None]}),
    "frame-nested-lists": ("frame", {"g": [[[1], [2, 3]]]}),
    "frame-list-of-objects": ("frame", {"m": [[{"r": 1}, {"s": "x"}]]}),
    "frame-int-labels": ("frame", {0: [0.5, 1.5], 1: [1, 2]}),
    "frame-all-empty-lists": ("frame", {"a": [[], []]}),
}


def _signatures() -> None:
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.models.utils import _enforce_schema
    from mlflow.types.schema import Schema

    schemas = _schemas()
    enforced = []
    for schema_id, case_id, rows in _ENFORCED:
        given = copy.deepcopy(rows)  # MLflow's enforcement converts nested dicts in place
        frame = pd.DataFrame(**given) if isinstance(given, dict) else pd.DataFrame(given)
        try:
            out = _enforce_schema(frame, schemas[schema_id])
        except Exception as exc:  # MLflow's verdict, whatever its class
            enforced.append(
                {
                    "schema": schema_id,
                    "case": case_id,
                    "rows": rows,
                    "ok": False,
                    "error": str(exc)[:300],
                }
            )
            continue
        enforced.append(
            {
                "schema": schema_id,
                "case": case_id,
                "rows": rows,
                "ok": True,
                "columns": [str(c) for c in out.columns],
                "values": _jsonable(out.to_dict(orient="records")),
            }
        )
    inferred = {}
    for case_id, (kind, example) in _INFERRED.items():
        data = pd.DataFrame(example) if kind == "frame" else example
        inferred[case_id] = {
            "kind": kind,
            # JSON object keys are strings: keep integer labels as a list of pairs
            "example": list(example.items()) if kind == "frame" else example,
            "inputs": infer_signature(data).to_dict()["inputs"],
        }
    written = {k: ModelSignature(inputs=s).to_dict()["inputs"] for k, s in schemas.items()}
    for text in written.values():  # what MLflow writes, MLflow reads back
        assert Schema.from_json(text).to_json() == text
    (OUT.parent / "mlflow_signatures.json").write_text(
        json.dumps(
            {
                "mlflow_version": mlflow.__version__,
                "schemas": written,
                "inferred": inferred,
                "enforced": enforced,
            },
            indent=1,
        )
        + "\n"
    )


def main(only: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    X, y = make_classification(n_samples=100, n_features=4, random_state=42)
    want = set(only)

    def wanted(name: str) -> bool:
        return not want or name in want

    if wanted("signatures"):
        _signatures()
    if wanted("sklearn_intcols"):
        # the seed model with the signature MLflow infers from pd.DataFrame(X): integer column
        # names ("name": 0), which the README's {"columns": [0, 1, 2, 3]} request meets
        seed_rows = np.array([[0.1, -0.2, 0.3, -0.4], [0.5, 0.6, -0.7, 0.8]])
        _save(
            "sklearn_intcols",
            RandomForestClassifier(random_state=42).fit(X, y),
            pd.DataFrame(np.vstack([seed_rows, X[:8]])),
            serialization_format="cloudpickle",
            signature=mlflow.models.infer_signature(pd.DataFrame(X)),
        )
    # the seed model, cloudpickle (MLflow 2.x's default), ndarray example -> tensor signature
    seed = RandomForestClassifier(n_estimators=20, random_state=42).fit(X, y)
    if wanted("sklearn_cloudpickle"):
        _save(
            "sklearn_cloudpickle",
            seed,
            X[:10],
            serialization_format="cloudpickle",
            input_example=X[:3],
        )

    # a Pipeline on named columns, plain pickle, predict_proba, DataFrame example -> columns
    frame = pd.DataFrame(X, columns=["amount", "age", "score", "tenure"])
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, y)
    if wanted("sklearn_pickle_proba"):
        _save(
            "sklearn_pickle_proba",
            pipe,
            frame.head(10),
            serialization_format="pickle",
            pyfunc_predict_fn="predict_proba",
            input_example=frame.head(3),
        )

    # no signature, no example: the bare layout
    if wanted("sklearn_bare"):
        _save(
            "sklearn_bare",
            LogisticRegression().fit(X, y),
            X[:10],
            serialization_format="cloudpickle",
        )

    # skops (MLflow 3's default format; mlserve reads it when the skops extra is installed)
    if wanted("sklearn_skops"):
        _save("sklearn_skops", LogisticRegression().fit(X, y), X[:10], serialization_format="skops")


if __name__ == "__main__":
    main(sys.argv[1:])

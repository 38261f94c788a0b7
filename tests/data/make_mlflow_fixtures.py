"""Generate the MLflow-written model directories under tests/data/mlflow_models/.

Run with an interpreter that has MLflow and the same scikit-learn as the test environment,
outside the repository's virtualenv, e.g.:

    python3 -m venv /tmp/mlflow-venv
    /tmp/mlflow-venv/bin/pip install mlflow-skinny scikit-learn==<version in .venv> pandas
    /tmp/mlflow-venv/bin/python tests/data/make_mlflow_fixtures.py

Each model directory gets an ``expected.json`` next to it: the input rows and the predictions
that ``mlflow.pyfunc.load_model(...).predict`` returned for them, which tests/test_mlflow_models.py
compares with mlserve's. The directories are committed as data; rerun this script only to
refresh them (e.g. for a new scikit-learn).
"""

from __future__ import annotations

import json
import shutil
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


def main() -> None:
    OUT.mkdir(exist_ok=True)
    X, y = make_classification(n_samples=100, n_features=4, random_state=42)

    # the seed model, cloudpickle (MLflow 2.x's default), ndarray example -> tensor signature
    seed = RandomForestClassifier(n_estimators=20, random_state=42).fit(X, y)
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
    _save(
        "sklearn_pickle_proba",
        pipe,
        frame.head(10),
        serialization_format="pickle",
        pyfunc_predict_fn="predict_proba",
        input_example=frame.head(3),
    )

    # no signature, no example: the bare layout
    _save(
        "sklearn_bare",
        LogisticRegression().fit(X, y),
        X[:10],
        serialization_format="cloudpickle",
    )

    # skops (MLflow 3's default format; mlserve reads it when the skops extra is installed)
    _save("sklearn_skops", LogisticRegression().fit(X, y), X[:10], serialization_format="skops")


if __name__ == "__main__":
    main()

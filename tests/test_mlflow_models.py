"""Models written by MLflow itself load with mlserve and predict what MLflow predicted.

The directories under tests/data/mlflow_models/ were written by ``mlflow.sklearn.save_model``
(see tests/data/make_mlflow_fixtures.py, which also recorded MLflow's own predictions).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

import mlserve
from mlserve.errors import MissingExtra, SchemaMismatch

MODELS = Path(__file__).parent / "data" / "mlflow_models"
NAMES = [
    "sklearn_cloudpickle",
    "sklearn_pickle_proba",
    "sklearn_bare",
    "sklearn_skops",
    "sklearn_intcols",
]

# A fixture written by another scikit-learn version still loads, with sklearn's warning.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.InconsistentVersionWarning")


def _expected(name: str) -> tuple[object, np.ndarray]:
    raw = json.loads((MODELS / f"{name}.expected.json").read_text())
    data = np.asarray(raw["data"])
    if raw["columns"]:
        data = pd.DataFrame(data, columns=raw["columns"])
    return data, np.asarray(raw["predictions"])


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_mlflow_model_predicts_what_mlflow_predicted(name: str, tmp_path: Path) -> None:
    # load a copy: loading must not need to write into the model directory
    shutil.copytree(MODELS / name, tmp_path / name)
    try:
        loaded = mlserve.load_model(tmp_path / name)
    except MissingExtra:
        pytest.skip("the skops extra is not installed")
    assert loaded.flavor == "sklearn"
    data, expected = _expected(name)
    np.testing.assert_allclose(loaded.predict(data), expected, rtol=0, atol=1e-12)


def test_mlflow_metadata_is_understood_and_kept(tmp_path: Path) -> None:
    loaded = mlserve.load_model(MODELS / "sklearn_pickle_proba")
    meta = loaded.metadata
    assert meta.flavors["python_function"]["predict_fn"] == "predict_proba"
    assert meta.extra["mlflow_version"]
    assert loaded.signature.inputs.input_names() == ["amount", "age", "score", "tenure"]
    example = loaded.input_example
    assert list(example.columns) == ["amount", "age", "score", "tenure"]
    meta.save(tmp_path)
    assert mlserve.Model.load(tmp_path).extra == meta.extra


def test_mlflow_signature_is_enforced() -> None:
    loaded = mlserve.load_model(MODELS / "sklearn_pickle_proba")
    data, _ = _expected("sklearn_pickle_proba")
    reordered = data[["tenure", "score", "age", "amount"]]
    np.testing.assert_array_equal(loaded.predict(reordered), loaded.predict(data))
    with pytest.raises(SchemaMismatch, match="amount"):
        loaded.predict(data.drop(columns=["amount"]))


def test_mlflow_ndarray_example_without_inputs_wrapper() -> None:
    # MLflow 3 writes an ndarray example as a bare list (2.x wrapped it in {"inputs": ...})
    loaded = mlserve.load_model(MODELS / "sklearn_cloudpickle")
    assert loaded.input_example.shape == (3, 4)
    assert loaded.predict(loaded.input_example).shape == (3,)


def test_mlflow_integer_column_names_load_and_round_trip(tmp_path: Path) -> None:
    # MLflow's infer_signature(pd.DataFrame(X)) writes "name": 0; it loads, keeps its type
    loaded = mlserve.load_model(MODELS / "sklearn_intcols")
    assert loaded.signature.inputs.input_names() == [0, 1, 2, 3]
    loaded.metadata.save(tmp_path)
    text = mlserve.Model.load(tmp_path).signature.to_dict()["inputs"]
    assert text.startswith('[{"type": "double", "name": 0, "required": true}')


@pytest.mark.slow
def test_seed_request_over_http_answers_what_mlflow_serves(tmp_path: Path) -> None:
    # the README's request against the MLflow-logged seed model: `mlflow models serve` answers
    # {"predictions": [0, 1]} for it, and so must `python -m mlserve.server`
    # tests/ is on sys.path (pytest's rootdir-relative import), tests/server a package there
    from server.helpers import SEED_BODY, start_server

    with start_server(tmp_path, "-m", str(MODELS / "sklearn_intcols")) as server:
        answer = requests.post(server.url + "/invocations", json=SEED_BODY, timeout=30)
        csv = requests.post(
            server.url + "/invocations",
            data=b"0,1,2,3\n0.1,-0.2,0.3,-0.4\n0.5,0.6,-0.7,0.8\n",
            headers={"Content-Type": "text/csv"},
            timeout=30,
        )
        bad = dict(SEED_BODY, dataframe_split={"columns": [0, 1, 2, 3], "data": [["x", 1, 2, 3]]})
        wrong = requests.post(server.url + "/invocations", json=bad, timeout=30)
    assert (answer.status_code, answer.json()) == (200, {"predictions": [0, 1]})
    # a CSV header says "0".."3", not the integer names 0..3: MLflow refuses it (missing inputs)
    assert (csv.status_code, csv.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert wrong.status_code == 400
    assert wrong.json()["error_code"] == "BAD_REQUEST"  # as MLflow answers it

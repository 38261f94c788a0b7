"""``mlserve.sklearn`` / ``mlserve.pyfunc``: MLflow's module names, reached through the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlserve.sklearn
import numpy as np
import pandas as pd
import pytest

import mlserve
import mlserve.pyfunc
from mlserve.errors import FlavorNotFound, InvalidParameterValue


@pytest.fixture(autouse=True)
def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLSERVE_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_sklearn_module_saves_logs_and_loads_the_estimator(seed_model: Any, seed_data) -> None:  # type: ignore[no-untyped-def]
    X, _ = seed_data
    mlserve.sklearn.save_model(seed_model, "saved", serialization_format="pickle")
    assert type(mlserve.sklearn.load_model("saved")) is type(seed_model)
    info = mlserve.sklearn.log_model(seed_model, name="rf", registered_model_name="RF")
    assert info.registered_model_version == 1
    loaded = mlserve.pyfunc.load_model("models:/RF/latest")
    assert isinstance(loaded, mlserve.PyFuncModel)
    np.testing.assert_array_equal(loaded.predict(X), seed_model.predict(X))
    # MLflow 2's artifact_path= still names the artifact
    assert mlserve.sklearn.log_model(seed_model, "old").model_uri.endswith("/old")


def test_pyfunc_module_takes_python_model_as_mlflow_does() -> None:
    class Plus(mlserve.PythonModel):
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return model_input + 1

    mlserve.pyfunc.save_model("m", python_model=Plus())
    frame = pd.DataFrame({"a": [1.0]})
    assert mlserve.pyfunc.load_model("m").predict(frame)["a"].tolist() == [2.0]
    info = mlserve.pyfunc.log_model(name="plus", python_model=Plus())
    assert mlserve.load_model(info.model_uri).flavor == "python_function"
    with pytest.raises(InvalidParameterValue, match="loader_module"):
        mlserve.pyfunc.save_model("n", loader_module="my_loader", data_path="x")


def test_load_model_of_another_flavor_is_refused() -> None:
    mlserve.pyfunc.save_model("m", python_model=lambda df: df)
    with pytest.raises(FlavorNotFound, match="sklearn"):
        mlserve.sklearn.load_model("m")


def test_the_real_pyfunc_module_keeps_its_names() -> None:
    assert mlserve.pyfunc.PyFuncModel is mlserve.PyFuncModel
    assert {"load_model", "log_model", "save_model", "PyFuncModel"} <= set(mlserve.pyfunc.__all__)


def test_unknown_names_are_not_modules() -> None:
    with pytest.raises(ModuleNotFoundError):
        __import__("mlserve.no_such_flavor")

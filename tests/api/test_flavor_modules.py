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


def test_after_import_mlserve_the_mlflow_modules_are_attributes(tmp_path: Path) -> None:
    # `import mlflow; mlflow.pyfunc.load_model(...)` works without `import mlflow.pyfunc`; an
    # inference script with mlflow replaced by mlserve must too (a fresh process, so nothing
    # else imported the modules first)
    import subprocess
    import sys

    code = (
        "import mlserve\n"
        "print(mlserve.pyfunc.load_model.__name__, mlserve.sklearn.log_model.__name__)\n"
        "print(mlserve.pyfunc.PythonModel is mlserve.PythonModel,"
        " mlserve.models.infer_signature is mlserve.infer_signature)\n"
        "for name in ('python_function', 'no_such_module', '_no_such'):\n"
        "    try:\n"
        "        getattr(mlserve, name)\n"
        "    except AttributeError:\n"
        "        print('no', name)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:5] == [
        "load_model log_model",
        "True True",
        "no python_function",
        "no no_such_module",
        "no _no_such",
    ]


def test_mlflow_models_names_are_in_mlserve_models() -> None:
    from mlserve.models import Model, ModelInfo, ModelSignature, infer_signature

    assert (Model, ModelInfo, ModelSignature, infer_signature) == (
        mlserve.Model,
        mlserve.ModelInfo,
        mlserve.ModelSignature,
        mlserve.infer_signature,
    )
    assert mlserve.pyfunc.PythonModelContext is mlserve.PythonModelContext

"""Models written by MLflow's ``mlflow.xgboost`` load through ``loader_module`` mapping.

The directories are laid out exactly as MLflow writes them (MLmodel keys and file names); the
model file itself is written by XGBoost, which is all MLflow does too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
import yaml

import mlserve
from mlserve import MalformedModel
from mlserve.testing import write_mlflow_mlmodel


def _mlflow_dir(
    path: Path, model: Any, *, data: str, model_class: str | None, model_format: str | None
) -> Path:
    path.mkdir()
    model.save_model(str(path / data))
    section: dict[str, Any] = {"code": None, "data": data, "xgb_version": xgb.__version__}
    if model_class is not None:
        section["model_class"] = model_class
    if model_format is not None:
        section["model_format"] = model_format
    write_mlflow_mlmodel(path, "xgboost", section, data=data, model_size_bytes=12345)
    (path / "requirements.txt").write_text(f"mlflow==2.17.0\nxgboost=={xgb.__version__}\n")
    return path


@pytest.mark.parametrize(
    ("model_class", "data", "model_format"),
    [
        ("xgboost.sklearn.XGBClassifier", "model.ubj", "ubj"),
        ("xgboost.sklearn.XGBClassifier", "model.json", "json"),
        # MLflow < 1.22 wrote no model_class (a Booster is assumed) and no model_format
        (None, "model.xgb", None),
    ],
    ids=["mlflow-2-ubj", "mlflow-2-json", "mlflow-1-booster"],
)
def test_mlflow_written_model_loads(
    model_class: str | None,
    data: str,
    model_format: str | None,
    seed_data: tuple[Any, Any],
    tmp_path: Path,
) -> None:
    X, y = seed_data
    if model_class is None:
        params = {"objective": "binary:logistic", "nthread": 1}
        model: Any = xgb.train(params, xgb.DMatrix(X, label=y), 5)
        model_file = "model.json"  # today's XGBoost picks the format by suffix; .xgb is legacy
        expected = model.predict(xgb.DMatrix(X))
    else:
        model = xgb.XGBClassifier(n_estimators=5, n_jobs=1).fit(X, y)
        model_file = data
        expected = model.predict(X)
    target = _mlflow_dir(
        tmp_path / "m", model, data=model_file, model_class=model_class, model_format=model_format
    )
    loaded = mlserve.load_model(target)
    assert loaded.flavor == "xgboost"
    np.testing.assert_array_equal(loaded.predict(X), expected)


def _data_outside(target: Path) -> None:
    mlmodel = yaml.safe_load((target / "MLmodel").read_text())
    mlmodel["flavors"]["xgboost"]["data"] = "../elsewhere.ubj"
    (target / "MLmodel").write_text(yaml.safe_dump(mlmodel))


def _unreadable_file(target: Path) -> None:
    (target / "model.ubj").write_bytes(b"not a model")


@pytest.mark.parametrize(
    ("model_class", "spoil", "match"),
    [
        ("os.system", None, "model_class"),
        (None, _data_outside, "outside"),
        ("xgboost.sklearn.XGBClassifier", _unreadable_file, "XGBoost cannot read"),
    ],
    ids=["model-class-outside-xgboost", "data-outside-the-model", "unreadable-model-file"],
)
def test_malformed_mlflow_models_are_refused(
    model_class: str | None,
    spoil: Callable[[Path], None] | None,
    match: str,
    seed_data: tuple[Any, Any],
    tmp_path: Path,
) -> None:
    X, y = seed_data
    model = xgb.XGBClassifier(n_estimators=2, n_jobs=1).fit(X, y)
    model.save_model(str(tmp_path / "elsewhere.ubj"))  # a real model, outside the directory
    target = _mlflow_dir(
        tmp_path / "m", model, data="model.ubj", model_class=model_class, model_format="ubj"
    )
    if spoil is not None:
        spoil(target)
    with pytest.raises(MalformedModel, match=match):
        mlserve.load_model(target)

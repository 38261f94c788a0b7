"""Models written by MLflow's ``mlflow.lightgbm`` load through the ``loader_module`` mapping.

The directories are laid out exactly as MLflow writes them: a ``Booster`` as model text in
``model.lgb``, a scikit-learn-API model pickled into ``model.pkl``.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import cloudpickle
import lightgbm as lgb
import numpy as np
import pytest

import mlserve
from mlserve import MalformedModel
from mlserve.testing import write_mlflow_mlmodel

QUIET = {"verbose": -1, "num_threads": 1}


def _write_mlmodel(path: Path, data: str, section: dict[str, Any]) -> None:
    own = {"code": None, "data": data, "lgb_version": lgb.__version__, **section}
    write_mlflow_mlmodel(path, "lightgbm", own, data=data)


def test_mlflow_written_booster_loads(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, y = seed_data
    booster = lgb.train({"objective": "binary", **QUIET}, lgb.Dataset(X, label=y), 5)
    target = tmp_path / "m"
    target.mkdir()
    booster.save_model(str(target / "model.lgb"))
    _write_mlmodel(target, "model.lgb", {"model_class": "lightgbm.basic.Booster"})
    loaded = mlserve.load_model(target)
    assert loaded.flavor == "lightgbm"
    np.testing.assert_array_equal(loaded.predict(X), booster.predict(X))


@pytest.mark.parametrize("fmt", ["cloudpickle", "pickle"], ids=str)
def test_mlflow_pickled_classifier_loads(
    fmt: str, seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, y = seed_data
    model = lgb.LGBMClassifier(n_estimators=5, **QUIET).fit(X, y)
    target = tmp_path / "m"
    target.mkdir()
    with open(target / "model.pkl", "wb") as out:
        (cloudpickle if fmt == "cloudpickle" else pickle).dump(model, out)
    section = {
        "model_class": "lightgbm.sklearn.LGBMClassifier",
        "serialization_format": fmt,
        "skops_trusted_types": None,
    }
    _write_mlmodel(target, "model.pkl", section)
    loaded = mlserve.load_model(target)
    assert isinstance(loaded.unwrap(), lgb.LGBMClassifier)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_mlflow3_default_skops_model_loads(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    # MLflow 3 writes scikit-learn-API models with skops by default, trusting its builtin list
    sio = pytest.importorskip("skops.io")
    X, y = seed_data
    model = lgb.LGBMClassifier(n_estimators=5, **QUIET).fit(X, y)
    target = tmp_path / "m"
    target.mkdir()
    sio.dump(model, target / "model.skops")
    trusted = [
        "collections.OrderedDict",
        "lightgbm.basic.Booster",
        "lightgbm.sklearn.LGBMClassifier",
        "lightgbm.sklearn.LGBMRegressor",
    ]
    section = {
        "model_class": "lightgbm.sklearn.LGBMClassifier",
        "serialization_format": "skops",
        "skops_trusted_types": trusted,
    }
    _write_mlmodel(target, "model.skops", section)
    loaded = mlserve.load_model(target)
    assert isinstance(loaded.unwrap(), lgb.LGBMClassifier)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_skops_model_with_untrusted_types_is_refused(
    seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    sio = pytest.importorskip("skops.io")
    X, y = seed_data
    target = tmp_path / "m"
    target.mkdir()
    sio.dump(lgb.LGBMClassifier(n_estimators=5, **QUIET).fit(X, y), target / "model.skops")
    section = {"model_class": "lightgbm.sklearn.LGBMClassifier", "serialization_format": "skops"}
    _write_mlmodel(target, "model.skops", section)  # no skops_trusted_types: skops' defaults
    with pytest.raises(MalformedModel, match="skops cannot load"):
        mlserve.load_model(target)


@pytest.mark.parametrize(
    ("section", "data", "match"),
    [
        ({"model_class": "os.system"}, "model.lgb", "model_class"),
        ({"model_class": "lightgbm.basic.Booster"}, "../outside.lgb", "outside"),
        ({"model_class": "lightgbm.basic.Booster"}, "missing.lgb", "missing"),
    ],
    ids=["foreign-class", "path-escape", "missing-file"],
)
def test_malformed_sections_are_refused(
    section: dict[str, Any], data: str, match: str, tmp_path: Path
) -> None:
    target = tmp_path / "m"
    target.mkdir()
    (target / "model.lgb").write_text("tree\n")
    (tmp_path / "outside.lgb").write_text("tree\n")
    _write_mlmodel(target, data, section)
    with pytest.raises(MalformedModel, match=match):
        mlserve.load_model(target)


def test_unreadable_model_text_is_a_malformed_model(tmp_path: Path) -> None:
    target = tmp_path / "m"
    target.mkdir()
    (target / "model.lgb").write_text("this is not a LightGBM model\n")
    _write_mlmodel(target, "model.lgb", {"model_class": "lightgbm.basic.Booster"})
    with pytest.raises(MalformedModel, match="LightGBM cannot read"):
        mlserve.load_model(target)

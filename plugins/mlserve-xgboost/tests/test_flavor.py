"""The xgboost flavor: conformance kit, native formats, Booster and scikit-learn API models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from mlserve_xgboost import flavor

import mlserve
from mlserve import InvalidParameterValue
from mlserve.testing import (
    check_can_save,
    check_flavor,
    check_mlflow_sections,
    check_requirements,
    check_saved_by_default,
)

COLUMNS = ["a", "b", "c", "d"]


def _booster(X: Any, y: Any, **params: Any) -> Any:
    # one thread: the data is tiny and CI machines are busy
    params = {"objective": "binary:logistic", "nthread": 1, **params}
    return xgb.train(params, xgb.DMatrix(X, label=y), 5)


@pytest.fixture(scope="module")
def models(seed_data: tuple[Any, Any]) -> dict[str, tuple[Any, Any]]:
    """Each fitted model of the conformance table and its input example, trained once."""
    X, y = seed_data
    frame = pd.DataFrame(X, columns=COLUMNS)
    return {
        "booster-ndarray": (_booster(X, y), X[:10]),
        "booster-named-columns": (_booster(frame, y), frame.iloc[:10]),
        "classifier": (xgb.XGBClassifier(n_estimators=5, n_jobs=1).fit(X, y), X[:10]),
        "classifier-named-columns": (
            xgb.XGBClassifier(n_estimators=5, n_jobs=1).fit(frame, y),
            frame[:10],
        ),
        "regressor": (xgb.XGBRegressor(n_estimators=5, n_jobs=1).fit(X, X[:, 0] * 2.0), X[:10]),
    }


@pytest.mark.parametrize(
    "case",
    [
        "booster-ndarray",
        "booster-named-columns",
        "classifier",
        "classifier-named-columns",
        "regressor",
    ],
    ids=str,
)
def test_conformance(case: str, models: dict[str, tuple[Any, Any]], tmp_path: Path) -> None:
    model, example = models[case]
    check_flavor(flavor, model, example, tmp_path)


@pytest.mark.parametrize("model_format", ["ubj", "json"], ids=str)
def test_saves_the_native_format_with_mlflow_section(
    model_format: str, seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, y = seed_data
    model = xgb.XGBClassifier(n_estimators=5, n_jobs=1).fit(X, y)
    mlserve.save_model(model, tmp_path / "m", flavor="xgboost", model_format=model_format)
    section = {
        "data": f"model.{model_format}",
        "model_format": model_format,
        "model_class": "xgboost.sklearn.XGBClassifier",
        "xgb_version": xgb.__version__,
    }
    pyfunc = {"data": f"model.{model_format}"}
    check_mlflow_sections(tmp_path / "m", "xgboost", section, pyfunc=pyfunc)
    # the file is XGBoost's own format: XGBoost reads it with no mlserve involved
    native = xgb.XGBClassifier()
    native.load_model(str(tmp_path / "m" / f"model.{model_format}"))
    np.testing.assert_array_equal(native.predict(X), model.predict(X))


def test_booster_predicts_probabilities_like_native(
    seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, y = seed_data
    booster = _booster(X, y)
    mlserve.save_model(booster, tmp_path / "m")  # a Booster is no sklearn estimator: auto-picked
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.flavor == "xgboost"
    assert isinstance(loaded.unwrap(), xgb.Booster)
    np.testing.assert_array_equal(loaded.predict(X), booster.predict(xgb.DMatrix(X)))
    np.testing.assert_array_equal(loaded.predict(pd.DataFrame(X)), booster.predict(xgb.DMatrix(X)))


def test_classifier_answers_with_labels(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, _ = seed_data
    labels = np.digitize(X[:, 0], [-0.5, 0.5])  # three classes
    model = xgb.XGBClassifier(n_estimators=5, n_jobs=1).fit(X, labels)
    mlserve.save_model(model, tmp_path / "m", flavor="xgboost")
    loaded = mlserve.load_model(tmp_path / "m")
    assert isinstance(loaded.unwrap(), xgb.XGBClassifier)
    predicted = loaded.predict(X)
    assert set(np.unique(predicted)) <= {0, 1, 2}
    np.testing.assert_array_equal(predicted, model.predict(X))


def test_named_features_are_matched_by_name(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, y = seed_data
    frame = pd.DataFrame(X, columns=COLUMNS)
    booster = _booster(frame, y)
    mlserve.save_model(booster, tmp_path / "m", input_example=frame.iloc[:5])
    loaded = mlserve.load_model(tmp_path / "m")
    shuffled = frame[["d", "b", "a", "c"]]  # the signature puts the columns back in order
    np.testing.assert_array_equal(loaded.predict(shuffled), booster.predict(xgb.DMatrix(frame)))


def test_thread_safety_follows_the_booster_kind(seed_data: tuple[Any, Any]) -> None:
    X, y = seed_data
    assert flavor.predictor(_booster(X, y), {}).capabilities.thread_safe
    linear = _booster(X, y, booster="gblinear")
    assert not flavor.predictor(linear, {}).capabilities.thread_safe
    assert flavor.predictor(linear, {}).capabilities.batchable


def test_rejects_an_unknown_model_format(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, y = seed_data
    with pytest.raises(InvalidParameterValue, match="model_format"):
        flavor.save(_booster(X, y), tmp_path, model_format="pickle")


def test_can_save_only_xgboost_models(seed_data: tuple[Any, Any]) -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = seed_data
    ours = [_booster(X, y), xgb.XGBRegressor(n_estimators=2, n_jobs=1).fit(X, y)]
    check_can_save(flavor, accepts=ours, refuses=[LogisticRegression().fit(X, y), "model.ubj"])


def test_requirements_name_the_plugin_and_xgboost(seed_data: tuple[Any, Any]) -> None:
    X, y = seed_data
    check_requirements(flavor, _booster(X, y), includes=["mlserve-xgboost", "xgboost"])
    check_requirements(flavor, xgb.XGBClassifier(), includes=["scikit-learn"])


def test_sklearn_api_model_is_saved_with_this_flavor_by_default(
    seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, y = seed_data
    check_saved_by_default(flavor, xgb.XGBClassifier(n_estimators=2, n_jobs=1).fit(X, y), tmp_path)

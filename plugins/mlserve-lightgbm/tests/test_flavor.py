"""The lightgbm flavor: conformance kit, model text, Booster and scikit-learn-API models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import yaml
from mlserve_lightgbm import flavor

import mlserve
from mlserve import InvalidParameterValue, MalformedModel
from mlserve.testing import (
    check_can_save,
    check_flavor,
    check_mlflow_sections,
    check_refuses_untrusted_pickle,
    check_requirements,
    check_saved_by_default,
)

COLUMNS = ["a", "b", "c", "d"]
QUIET = {"verbose": -1, "num_threads": 1}  # one thread: tiny data, busy CI machine


def _booster(X: Any, y: Any, objective: str = "binary") -> Any:
    return lgb.train({"objective": objective, **QUIET}, lgb.Dataset(X, label=y), 5)


def _three_classes(X: Any) -> Any:
    return np.digitize(X[:, 0], [-0.5, 0.5])


@pytest.fixture(scope="module")
def models(seed_data: tuple[Any, Any]) -> dict[str, tuple[Any, Any]]:
    """Each fitted model of the conformance table and its input example, trained once."""
    X, y = seed_data
    frame = pd.DataFrame(X, columns=COLUMNS)
    return {
        "booster": (_booster(X, y), X[:10]),
        "booster-named-columns": (_booster(frame, y), frame.iloc[:10]),
        "classifier": (lgb.LGBMClassifier(n_estimators=5, **QUIET).fit(X, y), X[:10]),
        "classifier-multiclass": (
            lgb.LGBMClassifier(n_estimators=5, **QUIET).fit(X, _three_classes(X)),
            X[:10],
        ),
        "classifier-named-columns": (
            lgb.LGBMClassifier(n_estimators=5, **QUIET).fit(frame, y),
            frame.iloc[:10],
        ),
        "regressor": (lgb.LGBMRegressor(n_estimators=5, **QUIET).fit(X, X[:, 0]), X[:10]),
    }


@pytest.mark.parametrize(
    "case",
    [
        "booster",
        "booster-named-columns",
        "classifier",
        "classifier-multiclass",
        "classifier-named-columns",
        "regressor",
    ],
    ids=str,
)
def test_conformance(case: str, models: dict[str, tuple[Any, Any]], tmp_path: Path) -> None:
    model, example = models[case]
    check_flavor(flavor, model, example, tmp_path)


def test_classifier_conforms_when_pickled_as_mlflow_does(
    seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, y = seed_data
    model = lgb.LGBMClassifier(n_estimators=5, **QUIET).fit(X, y)
    loaded = check_flavor(flavor, model, X[:10], tmp_path, serialization_format="cloudpickle")
    assert isinstance(loaded.unwrap(), lgb.LGBMClassifier)


def test_booster_is_saved_as_model_text(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, y = seed_data
    booster = _booster(X, y)
    mlserve.save_model(booster, tmp_path / "m")  # a Booster is no sklearn estimator: auto-picked
    section = {"data": "model.lgb", "model_class": "lightgbm.basic.Booster"}
    check_mlflow_sections(tmp_path / "m", "lightgbm", {**section, "lgb_version": lgb.__version__})
    assert (tmp_path / "m" / "model.lgb").read_text().startswith("tree")
    loaded = mlserve.load_model(tmp_path / "m")
    assert isinstance(loaded.unwrap(), lgb.Booster)
    np.testing.assert_array_equal(loaded.predict(X), booster.predict(X))


@pytest.mark.parametrize(
    "labels",
    [
        pytest.param(lambda X, y: y, id="binary-ints"),
        pytest.param(lambda X, y: np.where(y == 1, "spam", "ham"), id="binary-strings"),
        pytest.param(lambda X, y: _three_classes(X) * 10, id="multiclass-ints"),
    ],
)
def test_text_saved_classifier_of_earlier_versions_answers_with_its_labels(
    labels: Any, seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    # earlier versions wrote booster text + labels (lightgbm_text); such models still load
    X, y = seed_data
    model = lgb.LGBMClassifier(n_estimators=5, **QUIET).fit(X, labels(X, y))
    mlserve.save_model(model, tmp_path / "m", flavor="lightgbm")
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    model.booster_.save_model(str(tmp_path / "m" / "model.lgb"))
    classes = [c.item() for c in model.classes_]
    section = {**mlmodel["flavors"]["lightgbm"], "data": "model.lgb", "classes": classes}
    mlmodel["flavors"]["lightgbm"] = {**section, "serialization_format": "lightgbm_text"}
    mlmodel["flavors"]["python_function"]["data"] = "model.lgb"
    mlmodel.pop("mlserve_digests", None)  # the files changed on purpose
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    loaded = mlserve.load_model(tmp_path / "m")
    assert isinstance(loaded.unwrap(), lgb.Booster)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize(
    ("fmt", "filename"),
    [("cloudpickle", "model.pkl"), ("pickle", "model.pkl"), ("skops", "model.skops")],
    ids=str,
)
def test_classifier_is_written_as_mlflow_writes_it(
    fmt: str, filename: str, seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, y = seed_data
    model = lgb.LGBMClassifier(n_estimators=5, **QUIET).fit(X, np.where(y == 1, "spam", "ham"))
    options = {} if fmt == "cloudpickle" else {"serialization_format": fmt}  # the default
    mlserve.save_model(model, tmp_path / "m", flavor="lightgbm", **options)
    section = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())["flavors"]["lightgbm"]
    assert section["serialization_format"] == fmt  # a name MLflow's loader knows
    assert section["data"] == filename
    if fmt == "skops":
        assert "lightgbm.sklearn.LGBMClassifier" in section["skops_trusted_types"]
    loaded = mlserve.load_model(tmp_path / "m")
    assert isinstance(loaded.unwrap(), lgb.LGBMClassifier)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_rejects_an_unknown_serialization_format(
    seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, y = seed_data
    with pytest.raises(InvalidParameterValue, match="serialization_format"):
        flavor.save(_booster(X, y), tmp_path, serialization_format="lightgbm_text")


def test_rejects_an_unfitted_estimator(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="not fitted"):
        flavor.save(lgb.LGBMClassifier(), tmp_path)


def test_malformed_classes_are_refused(seed_data: tuple[Any, Any]) -> None:
    X, y = seed_data
    with pytest.raises(MalformedModel, match="classes"):
        flavor.predictor(_booster(X, y), {"classes": "ab"})


def test_can_save_only_lightgbm_models(seed_data: tuple[Any, Any]) -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = seed_data
    ours = [_booster(X, y), lgb.LGBMRegressor()]
    check_can_save(flavor, accepts=ours, refuses=[LogisticRegression().fit(X, y), "model.lgb"])


def test_requirements_name_the_plugin_and_lightgbm(seed_data: tuple[Any, Any]) -> None:
    X, y = seed_data
    check_requirements(flavor, _booster(X, y), includes=["mlserve-lightgbm", "lightgbm"])
    check_requirements(flavor, lgb.LGBMClassifier(), includes=["scikit-learn"])


def test_sklearn_api_model_is_saved_with_this_flavor_by_default(
    seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, y = seed_data
    check_saved_by_default(flavor, lgb.LGBMClassifier(n_estimators=2, **QUIET).fit(X, y), tmp_path)


def test_trust_policy_refuses_a_pickle_before_it_runs(
    models: dict[str, tuple[Any, Any]], tmp_path: Path
) -> None:
    classifier, _ = models["classifier"]
    mlserve.save_model(classifier, tmp_path / "m", serialization_format="cloudpickle")
    check_refuses_untrusted_pickle(tmp_path / "m", "model.pkl", tmp_path)


def test_skops_types_the_file_lists_count_only_where_the_policy_allows(
    models: dict[str, tuple[Any, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sio = pytest.importorskip("skops.io")
    classifier, example = models["classifier"]
    mlserve.save_model(classifier, tmp_path / "m", serialization_format="skops")
    # MLflow 3's default lightgbm format loads without pickles: its types are this flavor's own
    loaded = mlserve.load_model(tmp_path / "m", trust="no-pickle")
    np.testing.assert_array_equal(loaded.predict(example), classifier.predict(example))
    meta = mlserve.Model.load(tmp_path / "m")
    meta.flavors["lightgbm"]["skops_trusted_types"].append("builtins.exec")
    meta.save(tmp_path / "m")
    seen: list[list[str]] = []
    real_load = sio.load
    monkeypatch.setattr(
        sio, "load", lambda f, trusted=None: seen.append(trusted) or real_load(f, trusted=trusted)
    )
    mlserve.load_model(tmp_path / "m", trust="no-pickle")
    mlserve.load_model(tmp_path / "m")  # the default allows pickles: the list counts, as in MLflow
    assert "builtins.exec" not in seen[0]
    assert "builtins.exec" in seen[1]

"""The one door into the accelerators: the switch, the version range, the log line at load, and
no accelerator for a load that returns the native estimator."""

from __future__ import annotations

import logging

import mlserve.sklearn
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import mlserve
import mlserve.flavors._sklearn_fast as fast
from mlserve.flavors._sklearn import flavor

LOGGER = "mlserve.flavors._sklearn_fast"
X = np.random.default_rng(0).normal(size=(60, 4))
Y = (X[:, 0] > 0).astype(int)


def _load_line(caplog, model) -> tuple[object, str]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        predictor = flavor.predictor(model, {})
    (record,) = [r for r in caplog.records if r.name == LOGGER]  # one line per model
    return predictor, record.getMessage()


@pytest.mark.parametrize("value", ["0", "false", "OFF", " no "])
def test_the_switch_turns_every_accelerator_off(caplog, monkeypatch, value: str) -> None:
    # every spelling of "off" the server's other switches take (false used to keep them on)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y)
    monkeypatch.setenv(fast.SWITCH, value)
    predictor, line = _load_line(caplog, forest)
    assert line == (
        f"not accelerated: MLSERVE_SKLEARN_FAST_PATHS={value.strip()} "
        "(RandomForestClassifier.predict)"
    )
    assert predictor.method == forest.predict  # scikit-learn's own method
    np.testing.assert_array_equal(predictor.predict(X), forest.predict(X))


def test_outside_the_tested_versions_nothing_is_accelerated(caplog, monkeypatch) -> None:
    import sklearn

    monkeypatch.delenv(fast.SWITCH, raising=False)
    monkeypatch.setattr(fast, "TESTED_SKLEARN", ((1, 0), (1, 1)))
    model = LogisticRegression().fit(X, Y)
    predictor, line = _load_line(caplog, model)
    assert line == (
        f"not accelerated: scikit-learn {sklearn.__version__} outside 1.0-1.1 "
        "(LogisticRegression.predict)"
    )
    assert predictor.method == model.predict


@pytest.mark.skipif(fast.refusal() is not None, reason=f"accelerators off: {fast.refusal()}")
def test_the_chosen_accelerator_is_named(caplog) -> None:
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y)
    predictor, line = _load_line(caplog, forest)
    assert line == "accelerated: forest loop (RandomForestClassifier.predict)"
    assert predictor.method != forest.predict
    _, line = _load_line(caplog, forest.estimators_[0])
    assert line == "not accelerated: no accelerator applies (DecisionTreeClassifier.predict)"


def test_the_tested_range_holds_the_installed_version_in_ci() -> None:
    # CI installs the newest scikit-learn: when it leaves the range, this says so, instead of
    # every accelerator test skipping quietly
    refusal = fast.refusal()
    assert refusal is None or refusal.startswith(f"{fast.SWITCH}=")


@pytest.mark.parametrize("value", ["1", "true", "", "yes"])
def test_other_values_leave_the_accelerators_on(monkeypatch, value: str) -> None:
    monkeypatch.setenv(fast.SWITCH, value)
    assert fast.refusal() is None


def test_mlserve_sklearn_load_model_chooses_no_accelerator(caplog, tmp_path) -> None:
    # it returns the native estimator (as mlflow.sklearn.load_model does): an accelerator chosen
    # and verified for it would be load time for nothing. Every choice logs its line, switched
    # off or not, so no line means no choice; mlserve.load_model, which predicts, makes one
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y)
    mlserve.sklearn.save_model(forest, tmp_path / "m")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        native = mlserve.sklearn.load_model(tmp_path / "m")
        native_lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
        mlserve.load_model(tmp_path / "m")
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert native_lines == []
    assert len(lines) == 1 and lines[0].endswith("(RandomForestClassifier.predict)")
    assert type(native) is RandomForestClassifier
    np.testing.assert_array_equal(native.predict(X), forest.predict(X))

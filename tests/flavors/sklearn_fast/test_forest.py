"""The forest fast path predicts exactly what scikit-learn's own ``predict`` does, and stays out
of the way wherever that is not guaranteed."""

from __future__ import annotations

import concurrent.futures
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier

import mlserve
from mlserve.flavors._sklearn import flavor
from mlserve.flavors._sklearn_fast import refusal
from mlserve.flavors._sklearn_fast._verify import disagreement, numbers
from mlserve.flavors._sklearn_fast.forest import ForestPredict, _raw_agrees, forest_predict

FORESTS = [RandomForestClassifier, ExtraTreesClassifier, RandomForestRegressor, ExtraTreesRegressor]


def _data(forest_class: type, n_classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    if "Classifier" in forest_class.__name__:
        return make_classification(
            n_samples=300, n_features=6, n_informative=4, n_classes=n_classes, random_state=0
        )
    return make_regression(n_samples=300, n_features=6, noise=5.0, random_state=0)


def _fit(forest_class: type, **options: Any) -> Any:
    X, y = _data(forest_class)
    return forest_class(n_estimators=40, random_state=0, **options).fit(X, y)


def _inputs(n_features: int) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    rows = rng.standard_normal((500, n_features)) * 2.0
    return [
        rows[:1],
        rows,
        np.asfortranarray(rows),
        rows.astype(np.float32),
        np.round(rows * 3).astype(np.int64),
        rows[::2],  # not contiguous
    ]


@pytest.mark.parametrize("forest_class", FORESTS, ids=lambda c: c.__name__)
def test_same_predictions_bit_for_bit(forest_class: type) -> None:
    forest = _fit(forest_class)
    fast = forest_predict(forest, "predict")
    assert isinstance(fast, ForestPredict)
    for X in _inputs(forest.n_features_in_):
        ours, theirs = fast(X), forest.predict(X)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def test_string_classes_come_back_as_the_forest_returns_them() -> None:
    X, y = _data(RandomForestClassifier)
    labels = np.array(["cat", "dog", "emu"])[y]
    forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, labels)
    fast = forest_predict(forest, "predict")
    assert fast is not None
    np.testing.assert_array_equal(fast(X), forest.predict(X))


@pytest.mark.parametrize("named", [False, True], ids=["fitted-on-array", "fitted-on-frame"])
@pytest.mark.skipif(refusal() is not None, reason=f"accelerators off: {refusal()}")
def test_a_served_forest_uses_it_and_predicts_the_same(tmp_path: Path, named: bool) -> None:
    X, y = _data(RandomForestClassifier)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(frame if named else X, y)
    mlserve.save_model(forest, tmp_path / "rf", input_example=frame.head(3))
    loaded = mlserve.load_model(tmp_path / "rf")
    np.testing.assert_array_equal(loaded.predict(frame), forest.predict(frame if named else X))
    native = flavor.load(tmp_path / "rf", {"pickled_model": "model.pkl"})
    predictor = flavor.predictor(native, {})
    used = predictor.method.nameless if named else predictor.method
    assert isinstance(used, ForestPredict)


@pytest.mark.parametrize(
    ("build", "method"),
    [
        (lambda: _fit(RandomForestClassifier, n_jobs=2), "predict"),
        (lambda: _fit(RandomForestClassifier), "predict_proba"),
        (lambda: _fit(GradientBoostingClassifier), "predict"),
        (
            lambda: RandomForestRegressor(n_estimators=5, random_state=0).fit(
                *make_regression(n_samples=50, n_features=3, n_targets=2, random_state=0)
            ),
            "predict",
        ),
        (lambda: _fit(type("MyForestClassifier", (RandomForestClassifier,), {})), "predict"),
    ],
    ids=["n_jobs-2", "predict_proba", "gradient-boosting", "two-outputs", "subclass"],
)
def test_not_used_where_the_result_is_not_guaranteed(build: Any, method: str) -> None:
    assert forest_predict(build(), method) is None


def _outcome(predict: Any, X: Any) -> tuple[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's, on the float32 overflow
        try:
            return "answer", predict(X)
        except ValueError as exc:
            return "error", str(exc)


def test_other_inputs_get_the_forests_own_handling() -> None:
    forest = _fit(RandomForestClassifier)
    fast = forest_predict(forest, "predict")
    assert fast is not None
    width = forest.n_features_in_
    with_nan = np.ones((2, width))
    with_nan[1, 2] = np.nan
    huge = np.full((1, width), 1e300)  # infinite once float32: scikit-learn refuses it
    others = [
        with_nan,
        huge,
        np.ones((2, width + 1)),
        np.ones((0, width)),
        pd.DataFrame(np.ones((2, width))),
    ]
    for X in others:
        (kind, ours), (expected_kind, theirs) = _outcome(fast, X), _outcome(forest.predict, X)
        assert kind == expected_kind
        if kind == "error":
            assert ours == theirs
        else:
            np.testing.assert_array_equal(ours, theirs)
    assert _outcome(fast, huge)[0] == "error"


def test_a_forest_that_learned_missing_values_still_gets_them() -> None:
    X, y = _data(RandomForestClassifier)
    X = X.copy()
    X[::7, 1] = np.nan
    forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    fast = forest_predict(forest, "predict")
    assert fast is not None
    np.testing.assert_array_equal(fast(X), forest.predict(X))


def test_the_load_time_check_rejects_a_disagreeing_candidate() -> None:
    forest = _fit(RandomForestClassifier)
    fast = ForestPredict(forest)
    rows = numbers(forest.n_features_in_)
    probes = [rows, rows[:1]]
    assert disagreement(fast, forest.predict, probes) is None
    assert disagreement(lambda X: fast(X)[::-1], forest.predict, probes) is not None
    assert disagreement(lambda X: fast(X).astype(np.float64), forest.predict, probes) is not None

    def broken(X: np.ndarray) -> np.ndarray:
        raise RuntimeError("cannot")

    assert disagreement(broken, forest.predict, probes) is not None


def test_concurrent_callers_each_get_their_own_answer() -> None:
    forest = _fit(RandomForestRegressor)
    fast = forest_predict(forest, "predict")
    assert fast is not None
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((int(n), 6)) for n in rng.integers(1, 400, size=24)]
    expected = [forest.predict(X) for X in batches]

    def check(i: int) -> bool:
        return all(np.array_equal(fast(batches[i]), expected[i]) for _ in range(5))

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert all(pool.map(check, range(len(batches))))


@pytest.mark.parametrize("forest_class", FORESTS, ids=lambda c: c.__name__)
def test_the_trees_raw_outputs_are_used_where_they_equal_their_methods(forest_class) -> None:
    forest = _fit(forest_class)
    fast = forest_predict(forest, "predict")
    assert fast is not None and fast.raw
    assert fast.trees[0] == forest.estimators_[0].tree_.predict


class _RenormalizingTree(DecisionTreeClassifier):
    """A tree whose predict_proba is not its tree_'s raw output (as older versions divided)."""

    def predict_proba(self, X: Any, check_input: bool = True) -> Any:
        proba = super().predict_proba(X, check_input)
        return proba / proba.sum(axis=1, keepdims=True) * 0.5


def test_trees_whose_methods_differ_from_their_raw_output_are_called_as_they_are() -> None:
    X, y = _data(RandomForestClassifier)
    forest = RandomForestClassifier(n_estimators=12, random_state=0).fit(X, y)
    for tree in forest.estimators_:
        tree.__class__ = _RenormalizingTree  # as if another scikit-learn version's trees
    fast = ForestPredict(forest)
    assert not fast.raw
    np.testing.assert_array_equal(fast(X), forest.predict(X))
    assert not _raw_agrees([object()], True, 6)  # no tree_ at all

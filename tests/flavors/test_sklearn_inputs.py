"""What the sklearn flavor hands an estimator: what scikit-learn's own ``predict`` would get from
the caller's data, whether or not an accelerator is used (each case failed on the flavor before
the accelerators were put behind one seam)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlserve
from mlserve.flavors._sklearn import flavor


class _Select(TransformerMixin, BaseEstimator):
    """A custom first step that records nothing about its input (no names, no width)."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns

    def fit(self, X: Any, y: Any = None) -> _Select:
        return self

    def transform(self, X: Any) -> Any:
        return X[self.columns]


def _by_name(first: Any) -> Pipeline:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"color": rng.choice(["red", "blue"], 60), "a": rng.normal(size=60)})
    ct = ColumnTransformer(
        [("o", OneHotEncoder(handle_unknown="ignore"), ["color"]), ("s", StandardScaler(), ["a"])]
    )
    return Pipeline([("first", first), ("ct", ct), ("lr", LogisticRegression())]).fit(
        frame, (frame["color"] == "red") ^ (frame["a"] > 0)
    )


@pytest.mark.parametrize(
    "first", ["passthrough", None, _Select(["color", "a"])], ids=["passthrough", "None", "custom"]
)
def test_a_pipeline_whose_first_step_has_no_names_keeps_the_frame(first, tmp_path: Path) -> None:
    # the flavor took such a Pipeline as fitted on an ndarray: "Specifying the columns using
    # strings is only supported for dataframes"
    model = _by_name(first)
    rows = pd.DataFrame({"color": ["red", "blue", "green"], "a": [0.5, -1.0, 2.0]})
    expected = model.predict(rows)
    np.testing.assert_array_equal(flavor.predictor(model, {}).predict(rows), expected)
    if first is None or isinstance(first, str):  # a custom step needs code_paths to load
        mlserve.save_model(model, tmp_path / "m", input_example=rows.head(2))
        loaded = mlserve.load_model(tmp_path / "m")
        np.testing.assert_array_equal(loaded.predict(rows), expected)
        from werkzeug.test import Client

        from mlserve.server import create_app

        body = {"dataframe_split": {"columns": ["color", "a"], "data": rows.values.tolist()}}
        response = Client(create_app(loaded)).post("/invocations", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert json.loads(response.get_data()) == {"predictions": expected.tolist()}


NULLABLE = {
    "Float64": pd.array([0.5, None, 2.0, -1.0], dtype="Float64"),
    "Int64": pd.array([1, 2, None, 4], dtype="Int64"),
    "boolean": pd.array([True, None, False, True], dtype="boolean"),
}


@pytest.mark.parametrize("model_class", [HistGradientBoostingRegressor, RandomForestClassifier])
@pytest.mark.parametrize("dtype", list(NULLABLE))
def test_nullable_columns_reach_an_array_fitted_estimator_as_nan(model_class, dtype) -> None:
    # they reached it as an object array of pd.NA, which it refused
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 2))
    X[::7, 1] = np.nan  # fitted with missing values: it answers them
    model = model_class(random_state=0).fit(X, (X[:, 0] > 0).astype(int))
    rows = pd.DataFrame({"a": [0.1, -0.2, 0.3, 0.4], "b": NULLABLE[dtype]})
    # scikit-learn's own conversion of the same frame (positional labels: no names to check)
    expected = model.predict(rows.set_axis([0, 1], axis=1))
    np.testing.assert_array_equal(flavor.predictor(model, {}).predict(rows), expected)


def test_an_optional_long_column_with_a_null_is_answered_and_inferred(tmp_path: Path) -> None:
    X = np.random.default_rng(2).normal(size=(80, 2))
    X[::5, 1] = np.nan
    model = HistGradientBoostingRegressor().fit(X, X[:, 0])
    example = pd.DataFrame({"a": [0.5, 1.5], "n": pd.array([3, None], dtype="Int64")})
    mlserve.save_model(model, tmp_path / "m", input_example=example)
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.signature is not None and loaded.signature.outputs is not None
    expected = model.predict(np.array([[0.5, 3.0], [1.5, np.nan]]))
    np.testing.assert_array_equal(loaded.predict(example), expected)


def test_a_step_that_transforms_in_place_leaves_the_input_as_scikit_learn_does(caplog) -> None:
    # the first predictions ran scikit-learn and the accelerator on the same array: the
    # caller's array was scaled twice and the accelerator dropped with a warning
    X = np.random.default_rng(3).normal(5.0, 2.0, size=(40, 3))
    model = make_pipeline(StandardScaler(copy=False), LogisticRegression())
    model.fit(X.copy(), (X[:, 0] > 5).astype(int))
    predictor = flavor.predictor(model, {})
    ours, theirs = X[:5].copy(), X[:5].copy()
    with caplog.at_level(logging.WARNING):
        got = predictor.predict(ours)
    np.testing.assert_array_equal(got, model.predict(theirs))
    np.testing.assert_array_equal(ours, theirs)  # scaled once, as scikit-learn scales it
    assert not caplog.records

"""The "frame's values" accelerator (``mlserve/flavors/_sklearn_fast/names.py``) and the plain
flavor around it: the array path predicts exactly what the DataFrame path does, and everything
it does not cover still goes through the estimator as fitted."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlserve
from mlserve.errors import ModelPredictError
from mlserve.flavors._sklearn import _SklearnPredictor, flavor
from mlserve.flavors._sklearn_fast import refusal
from mlserve.flavors._sklearn_fast.names import NamedArrayPredict

accelerated = pytest.mark.skipif(refusal() is not None, reason=f"accelerators off: {refusal()}")

COLUMNS = [f"x{i}" for i in range(6)]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(rng.normal(size=(300, len(COLUMNS))), columns=COLUMNS)


@pytest.fixture(scope="module")
def target(frame: pd.DataFrame) -> np.ndarray:
    return (frame["x0"] + frame["x3"] > 0).to_numpy().astype(int)


def _predictor(model, fn: str = "predict"):
    return flavor.predictor(model, {"python_function": {"predict_fn": fn}})


def _named(model, fn: str = "predict") -> _SklearnPredictor:
    predictor = _predictor(model, fn)
    assert isinstance(predictor, _SklearnPredictor) and predictor.wants_frame
    assert isinstance(predictor.method, NamedArrayPredict)
    return predictor


FNS = ["predict", "predict_proba", "predict_log_proba", "decision_function"]


@accelerated
@pytest.mark.parametrize("fn", FNS, ids=FNS)
def test_frame_fitted_model_gets_identical_predictions_from_arrays(fn, frame, target) -> None:
    model = LogisticRegression().fit(frame, target)
    predictor = _named(model, fn)
    for rows in (frame.head(1), frame):
        expected = getattr(model, fn)(rows)  # sklearn's own DataFrame path
        np.testing.assert_array_equal(predictor.predict(rows), expected)
        np.testing.assert_array_equal(predictor.method.nameless(rows.to_numpy()), expected)


@accelerated
@pytest.mark.parametrize("fn", ["predict", "predict_proba"], ids=["predict", "predict_proba"])
def test_frame_fitted_forest_gets_identical_predictions(fn, frame, target) -> None:
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(frame, target)
    predictor = _named(model, fn)  # its trees were fitted on arrays
    np.testing.assert_array_equal(predictor.predict(frame), getattr(model, fn)(frame))


# (id, how the frame is changed, whether it takes the array path)
CASTS = [
    ("float32", lambda f: f.astype(np.float32), True),
    ("int64", lambda f: (f * 10).round().astype(np.int64), True),
    ("int-and-float", lambda f: f.astype({"x1": np.int64}), True),
    ("bool-only", lambda f: f > 0, True),
    ("bool-and-float", lambda f: f.assign(x2=f["x2"] > 0), False),  # object values
    ("Float64-extension", lambda f: f.astype({"x4": "Float64"}), False),
    ("sparse", lambda f: f.astype(pd.SparseDtype(float, 0.0)), False),  # a sparse matrix
]


@accelerated
@pytest.mark.parametrize(
    ("cast", "fast"), [(c, f) for _, c, f in CASTS], ids=[i for i, _, _ in CASTS]
)
def test_other_dtypes_predict_as_sklearn_does(cast, fast, frame, target) -> None:
    model = LinearRegression().fit(frame, target)
    rows = cast(frame)
    predictor = _named(model)
    assert (predictor.method.values_of(rows) is not None) == fast
    if fast:
        np.testing.assert_array_equal(predictor.method.values_of(rows), rows.to_numpy())
    np.testing.assert_array_equal(predictor.predict(rows), model.predict(rows))


def test_other_columns_still_meet_sklearn_checks(frame, target) -> None:
    model = LogisticRegression().fit(frame, target)
    predictor = _predictor(model)
    with pytest.raises(ValueError, match="same order"):
        predictor.predict(frame[COLUMNS[::-1]])
    with pytest.raises(ValueError, match="Feature names unseen"):
        predictor.predict(frame.rename(columns={"x0": "other"}))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        predictor.predict(frame.to_numpy())
    if refusal() is None:
        named = _named(model)
        assert named.method.values_of(frame[COLUMNS[::-1]]) is None
        assert named.method.values_of(frame.set_axis(range(len(COLUMNS)), axis=1)) is None
        assert named.method.values_of(frame) is not None


def test_numpy_fitted_model_is_given_the_values(seed_model, seed_data) -> None:
    X, _ = seed_data
    named = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    for fn in ("predict", "predict_proba"):
        predictor = _predictor(seed_model, fn)
        assert type(predictor) is _SklearnPredictor and not predictor.wants_frame
        np.testing.assert_array_equal(predictor.predict(named), getattr(seed_model, fn)(X))
        np.testing.assert_array_equal(predictor.predict(X), getattr(seed_model, fn)(X))


def _string_pipeline() -> tuple[object, pd.DataFrame]:
    rng = np.random.default_rng(1)
    mixed = pd.DataFrame(
        {
            "color": rng.choice(["red", "green", "blue"], 60),
            "size": rng.normal(size=60),
            "count": rng.integers(0, 5, 60),
        }
    )
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["color"]),
            (StandardScaler(), ["size", "count"]),
        ),
        LogisticRegression(),
    ).fit(mixed, mixed["color"] == "red")
    return model, mixed


@pytest.mark.parametrize("fn", ["predict", "predict_proba"], ids=["predict", "predict_proba"])
def test_pipeline_with_string_columns_keeps_its_frame(fn, tmp_path: Path) -> None:
    model, mixed = _string_pipeline()
    predictor = _predictor(model, fn)
    assert isinstance(predictor, _SklearnPredictor) and predictor.wants_frame
    np.testing.assert_array_equal(predictor.predict(mixed), getattr(model, fn)(mixed))
    mlserve.save_model(model, tmp_path / "m", input_example=mixed.head(3), pyfunc_predict_fn=fn)
    loaded = mlserve.load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(mixed), getattr(model, fn)(mixed))


def test_estimators_holding_named_estimators_keep_the_frame(frame, target) -> None:
    voting = VotingClassifier(
        [("lr", LogisticRegression()), ("rf", RandomForestClassifier(n_estimators=5))]
    ).fit(frame, target)
    predictor = _predictor(voting)
    assert _frame_path(predictor)  # its estimators_ would warn on an array
    np.testing.assert_array_equal(predictor.predict(frame), voting.predict(frame))


class _MyRegression(LinearRegression):
    """Not scikit-learn's own: its predict might use the frame."""


def _frame_path(predictor) -> bool:
    return predictor.wants_frame and not isinstance(predictor.method, NamedArrayPredict)


def test_only_sklearn_estimators_and_not_transform_take_the_fast_path(frame, target) -> None:
    assert _frame_path(_predictor(_MyRegression().fit(frame, target)))
    assert _frame_path(_predictor(StandardScaler().fit(frame), "transform"))  # its output is
    scaler = StandardScaler().set_output(transform="pandas").fit(frame)  # the answer
    predictor = _predictor(scaler, "transform")
    assert isinstance(predictor, _SklearnPredictor) and predictor.wants_frame
    shifted = frame.head(3).set_axis([10, 11, 12])
    pd.testing.assert_frame_equal(predictor.predict(shifted), scaler.transform(shifted))


@accelerated
def test_the_copy_shares_the_fitted_arrays_and_leaves_the_model_alone(frame, target) -> None:
    model = LogisticRegression().fit(frame, target)
    predictor = _named(model)
    assert predictor.method.nameless.__self__.coef_ is model.coef_
    assert list(model.feature_names_in_) == COLUMNS
    assert not hasattr(predictor.method.nameless.__self__, "feature_names_in_")


def test_loaded_model_predicts_identically_from_threads(frame, target, tmp_path: Path) -> None:
    model = LogisticRegression().fit(frame, target)
    mlserve.save_model(model, tmp_path / "m", input_example=frame.head(3))
    loaded = mlserve.load_model(tmp_path / "m")
    expected = model.predict(frame)
    # JSON-like int columns are cast by the enforcer, then predicted from an array
    np.testing.assert_array_equal(
        loaded.predict(frame.round().astype(int)), model.predict(frame.round())
    )
    results: list[tuple[int, np.ndarray]] = []

    def work() -> None:
        for i in range(0, len(frame), 10):
            results.append((i, loaded.predict(frame.iloc[i : i + 10])))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 * 30
    for i, got in results:
        np.testing.assert_array_equal(got, expected[i : i + 10])
    with pytest.raises(ModelPredictError):
        loaded.predict(frame.assign(x0=np.inf))

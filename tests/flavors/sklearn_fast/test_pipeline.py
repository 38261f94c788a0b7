"""The Pipeline loop predicts exactly what scikit-learn's own ``Pipeline.predict`` does, and stays
out of the way wherever that is not guaranteed; the seam's check refuses one that does not."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.compose import ColumnTransformer, make_column_transformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)

import mlserve
from mlserve.flavors import _sklearn_fast
from mlserve.flavors._sklearn import _input_step, flavor
from mlserve.flavors._sklearn_fast import accelerate, refusal
from mlserve.flavors._sklearn_fast._verify import difference, disagreement, probes
from mlserve.flavors._sklearn_fast.forest import ForestPredict
from mlserve.flavors._sklearn_fast.pipeline import (
    ColumnTransform,
    PipelinePredict,
    SettingsGuard,
    pipeline_predict,
)

accelerated = pytest.mark.skipif(refusal() is not None, reason=f"accelerators off: {refusal()}")


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "color": rng.choice(["red", "green", "blue"], size=n),
            "size": rng.choice(["S", "M", "L"], size=n),
            "a": rng.normal(0, 1, n),
            "b": rng.normal(10, 3, n),
            "count": rng.integers(0, 9, n),
            "flag": rng.random(n) > 0.5,
            "text": rng.choice(["red fox", "lazy dog", "quick brown fox", "dog"], size=n),
        }
    )


TRAIN = _frame(400, 0)
LABELS = ((TRAIN["color"] == "red") ^ (TRAIN["a"] > 0)).astype(int).to_numpy()
NUMERIC = ["a", "b", "count"]


def _inputs() -> list[pd.DataFrame]:
    rows = _frame(300, 1)
    unknown = rows.head(4).copy()
    unknown.loc[:, "color"] = "purple"  # a category never seen in fit
    missing = rows.head(3).copy()
    missing.loc[1, "size"] = None  # a missing string (NaN in pandas' str dtype)
    as_objects = rows.head(5).astype({"color": object, "size": object})
    return [rows.head(1), rows, unknown, rows.iloc[::3], missing, as_objects]


def _onehot_scale(**ct_options: Any) -> ColumnTransformer:
    return make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["color", "size"]),
        (StandardScaler(), NUMERIC),
        **ct_options,
    )


PIPELINES: dict[str, Callable[[], Pipeline]] = {
    "onehot+scale+lr": lambda: make_pipeline(_onehot_scale(), LogisticRegression()),
    "sparse-output": lambda: make_pipeline(
        _onehot_scale(sparse_threshold=1.0), LogisticRegression()
    ),
    "remainder-passthrough": lambda: make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["color", "size"]),
            (StandardScaler(), ["a"]),
            ("drop", ["text"]),
            remainder="passthrough",
        ),
        LogisticRegression(),
    ),
    "scalar-column-text": lambda: make_pipeline(
        make_column_transformer(
            (CountVectorizer(), "text"),  # one column by name: a 1-D selection
            (MinMaxScaler(), ["b"]),
        ),
        LogisticRegression(),
    ),
    "steps-after-the-ct": lambda: make_pipeline(
        _onehot_scale(), "passthrough", MinMaxScaler(), RandomForestClassifier(n_estimators=15)
    ),
    "ordinal-and-onehot-on-ints": lambda: make_pipeline(
        make_column_transformer(
            (
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                ["color", "size"],
            ),
            (OneHotEncoder(handle_unknown="ignore"), ["count"]),  # integers, one dtype
            (OneHotEncoder(handle_unknown="ignore"), ["size", "count"]),  # str and int
        ),
        LogisticRegression(),
    ),
    "numeric-first-step": lambda: Pipeline(
        [
            ("impute", SimpleImputer()),
            ("scale", StandardScaler()),
            ("lr", LinearRegression()),
        ]
    ),
}


def _fit(name: str) -> Pipeline:
    model = PIPELINES[name]()
    if name == "numeric-first-step":
        return model.fit(TRAIN[NUMERIC], TRAIN["a"] * 2 + TRAIN["count"])
    return model.fit(TRAIN, LABELS)


def _model_input(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    return frame[NUMERIC] if name == "numeric-first-step" else frame


def _accelerate(model: Pipeline, method: Callable[[Any], Any] | None = None) -> Any:
    step, _ = _input_step(model)
    return accelerate(model, "predict", method or model.predict, array=False, input_step=step)


@pytest.mark.parametrize("name", list(PIPELINES))
def test_same_predictions_bit_for_bit(name: str) -> None:
    model = _fit(name)
    fast = pipeline_predict(model, "predict")
    assert isinstance(fast, SettingsGuard)
    loop = fast.fast
    assert isinstance(loop, PipelinePredict)
    # the load-time check: the probes built from the fitted model are answered, the same
    step, _ = _input_step(model)
    assert disagreement(fast, model.predict, probes(step, array=False)) is None
    if refusal() is None:
        assert _accelerate(model) is not model.predict
    for frame in _inputs() * 2:
        X = _model_input(name, frame)
        ours, theirs = fast(X), model.predict(X)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def test_the_loop_replaces_what_it_promises() -> None:
    loop = pipeline_predict(_fit("steps-after-the-ct"), "predict").fast
    ct, scaler = loop.transforms  # the "passthrough" step is skipped, as Pipeline does
    assert isinstance(ct, ColumnTransform)
    # the dense ColumnTransformer's one-hot encoder: a table lookup, then its array path
    assert [type(t).__name__ for _, t in ct.parts] == ["OneHotLookup", "_ArrayTransform"]
    (positions, onehot), _ = ct.parts
    strings = _inputs()[0].take(positions, axis=1)
    array_path = onehot.fallback
    assert array_path.values_of(strings, array_path.columns) is not None  # one dtype: an array
    expected = array_path.method(strings).toarray()
    np.testing.assert_array_equal(array_path(strings).toarray(), expected)
    np.testing.assert_array_equal(onehot(strings), expected)
    assert isinstance(loop.predict, ForestPredict)  # the final forest gets the forest loop
    assert scaler.__self__.__class__ is MinMaxScaler  # fitted on an array: its own transform


@pytest.mark.parametrize(
    "build",
    [
        lambda: make_pipeline(
            make_column_transformer(
                (OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["color"]),
                (StandardScaler(), NUMERIC),
            ),
            LogisticRegression(),
        ).set_output(transform="pandas"),
        lambda: make_pipeline(
            ColumnTransformer(
                [
                    ("onehot", OneHotEncoder(handle_unknown="ignore"), ["color"]),
                    ("scale", StandardScaler(), NUMERIC),
                ],
                transformer_weights={"scale": 2.0},
            ),
            LogisticRegression(),
        ),
        lambda: make_pipeline(_onehot_scale(n_jobs=2), LogisticRegression()),
    ],
    ids=["set_output-pandas", "transformer-weights", "n_jobs-2"],
)
def test_a_column_transformer_it_does_not_reproduce_keeps_its_own_transform(build) -> None:
    model = build().fit(TRAIN, LABELS)
    fast = pipeline_predict(model, "predict")
    assert fast is not None  # the Pipeline loop still applies around it
    ct = model.steps[0][1]
    assert fast.fast.transforms[0] == ct.transform
    for frame in _inputs():
        np.testing.assert_array_equal(fast(frame), model.predict(frame))


class _MyPipeline(Pipeline):
    """Not scikit-learn's own: its predict might do more."""


def test_not_used_where_the_result_is_not_guaranteed() -> None:
    model = _fit("onehot+scale+lr")
    assert pipeline_predict(model, "predict_proba") is None
    assert pipeline_predict(model.steps[-1][1], "predict") is None  # not a Pipeline
    mine = _MyPipeline(model.steps)
    assert pipeline_predict(mine, "predict") is None
    with sklearn.config_context(enable_metadata_routing=True):
        assert pipeline_predict(model, "predict") is None
    with sklearn.config_context(transform_output="pandas"):
        assert pipeline_predict(model, "predict") is None


def _outcome(predict: Callable[[Any], Any], X: Any) -> tuple[str, Any]:
    try:
        return "answer", predict(X)
    except (ValueError, KeyError, TypeError) as exc:
        return type(exc).__name__, str(exc)


def test_other_inputs_get_scikit_learns_own_handling() -> None:
    model = _fit("onehot+scale+lr")
    strict = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["color"]), (StandardScaler(), ["a"])),
        LogisticRegression(),
    ).fit(TRAIN, LABELS)
    rows = _frame(5, 2)
    unknown = rows.assign(color="purple")
    others = [
        (model, rows[list(reversed(rows.columns))]),  # the same columns, another order
        (model, rows.drop(columns=["size"])),  # a missing column
        (model, rows.assign(extra=1.0)),  # one more column
        (model, rows.assign(a=["x", "y", "z", "w", "v"])),  # text where numbers were fitted
        (strict, unknown),  # OneHotEncoder(handle_unknown="error") refuses it
        (strict, rows.to_numpy()),  # no names at all
    ]
    for pipeline, X in others:
        fast = pipeline_predict(pipeline, "predict")
        assert fast is not None
        loop = fast.fast
        (kind, ours), (expected_kind, theirs) = _outcome(loop, X), _outcome(pipeline.predict, X)
        assert kind == expected_kind
        if kind == "answer":
            np.testing.assert_array_equal(ours, theirs)
        else:
            assert ours == theirs


@accelerated
def test_a_disagreeing_fast_path_is_not_used_with_a_warning(caplog, monkeypatch) -> None:
    model = _fit("onehot+scale+lr")
    step, _ = _input_step(model)
    monkeypatch.setattr(
        _sklearn_fast, "pipeline_predict", lambda native, name: lambda X: 1 - model.predict(X)
    )
    with caplog.at_level(logging.INFO, logger="mlserve.flavors._sklearn_fast"):
        assert _accelerate(model) == model.predict
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "not accelerated: the pipeline loop returned other values than scikit-learn "
        "(Pipeline.predict)"
    )

    def broken(X: Any) -> Any:
        raise RuntimeError("cannot")

    inputs = probes(step, array=False)
    assert disagreement(broken, model.predict, inputs) == "raised on a probe scikit-learn answered"
    other_dtype = disagreement(lambda X: model.predict(X).astype(float), model.predict, inputs)
    assert other_dtype == "returned another dtype or shape than scikit-learn"


@accelerated
def test_at_request_time_only_the_fast_path_runs() -> None:
    model = _fit("onehot+scale+lr")
    frame = _inputs()[0]
    calls = {"reference": 0}

    def reference(X: Any) -> Any:
        calls["reference"] += 1
        return model.predict(X)

    chosen = _accelerate(model, reference)
    assert isinstance(chosen, SettingsGuard)
    at_load = calls["reference"]
    assert at_load == 2  # the probe, and its first row alone
    for _ in range(10):
        np.testing.assert_array_equal(chosen(frame), model.predict(frame))
    assert calls["reference"] == at_load


@accelerated
@pytest.mark.parametrize("regression", [False, True], ids=["classifier", "regressor"])
def test_a_saved_pipeline_uses_it_and_predicts_the_same(tmp_path: Path, regression) -> None:
    final = RandomForestRegressor(n_estimators=10) if regression else LogisticRegression()
    target = TRAIN["a"].to_numpy() if regression else LABELS
    model = make_pipeline(_onehot_scale(), final).fit(TRAIN, target)
    mlserve.save_model(model, tmp_path / "m", input_example=TRAIN.head(3))
    loaded = mlserve.load_model(tmp_path / "m")
    complete = [f for f in _inputs() if not f.isna().to_numpy().any()]  # the signature wants
    assert len(complete) == len(_inputs()) - 1  # no nulls in required columns
    for frame in complete:
        np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    native = flavor.load(tmp_path / "m", {"pickled_model": "model.pkl"})
    predictor = flavor.predictor(native, {})
    assert predictor.wants_frame and isinstance(predictor.method, SettingsGuard)


def _same_outcome(loop: Callable[[Any], Any], reference: Callable[[Any], Any], X: Any) -> None:
    (kind, ours), (expected_kind, theirs) = _outcome(loop, X), _outcome(reference, X)
    assert kind == expected_kind
    if kind == "answer":
        np.testing.assert_array_equal(ours, theirs)
    else:
        assert ours == theirs


def test_what_column_transformer_refuses_before_stacking_is_refused_the_same() -> None:
    # A passthrough column holding pandas.NA, and a transformer giving 1-D output: scikit-learn
    # refuses both before stacking (found by an independent review).
    frame = pd.DataFrame({"a": np.arange(50.0), "b": pd.array(np.arange(50) % 5, dtype="Int64")})
    passthrough = make_pipeline(
        ColumnTransformer([("s", StandardScaler(), ["a"])], remainder="passthrough"),
        RandomForestRegressor(n_estimators=5, random_state=0),
    ).fit(frame, frame["a"])
    squeezing = make_pipeline(
        ColumnTransformer(
            [
                ("s", StandardScaler(), ["a"]),
                ("sq", FunctionTransformer(lambda d: d.squeeze(axis=0)), ["b"]),
            ]
        ),
        LinearRegression(),
    ).fit(frame, frame["a"])
    with_na = pd.DataFrame({"a": [1.0, 2.0], "b": pd.array([1, None], dtype="Int64")})
    for model, X in [(passthrough, with_na), (passthrough, frame.head(3)), (squeezing, frame)]:
        checked = pipeline_predict(model, "predict")
        assert checked is not None
        _same_outcome(checked.fast, model.predict, X)
    assert _outcome(passthrough.predict, with_na)[0] == "ValueError"
    squeezed_row = frame.head(1)
    _same_outcome(pipeline_predict(squeezing, "predict").fast, squeezing.predict, squeezed_row)
    assert "should be 2D" in _outcome(squeezing.predict, squeezed_row)[1]


def test_a_fast_path_that_answers_what_scikit_learn_refuses_is_refused() -> None:
    model = _fit("onehot+scale+lr")
    bad = _frame(2, 3).assign(a=["x", "y"])  # text where numbers were fitted

    def lenient(X: Any) -> Any:
        return np.zeros(len(X), dtype=int)

    assert disagreement(lenient, model.predict, [bad]) == "answered a probe scikit-learn refused"
    # both refusing every probe leaves nothing checked
    assert disagreement(model.predict, model.predict, [bad]) == _sklearn_fast.UNCHECKED


def test_settings_changed_after_load_send_predictions_to_scikit_learn() -> None:
    model = _fit("onehot+scale+lr")
    frame = _inputs()[1]
    trusted = SettingsGuard(lambda X: 1 - model.predict(X), model.predict)
    np.testing.assert_array_equal(trusted(frame), 1 - model.predict(frame))  # the fast path
    with sklearn.config_context(enable_metadata_routing=True):
        np.testing.assert_array_equal(trusted(frame), model.predict(frame))


def test_bits_not_just_values_are_compared() -> None:
    assert difference(np.array([0.0]), np.array([-0.0])) is not None
    signed = disagreement(lambda X: np.array([0.0]), lambda X: np.array([-0.0]), [None])
    assert signed == "returned other values than scikit-learn"


def test_in_place_scaling_and_empty_selections() -> None:
    in_place = make_pipeline(
        make_column_transformer(
            (StandardScaler(copy=False), ["a", "b"]),
            ("passthrough", []),  # selects nothing: skipped, as scikit-learn skips it
        ),
        LogisticRegression(),
    ).fit(TRAIN, LABELS)
    loop = pipeline_predict(in_place, "predict").fast
    (ct,) = loop.transforms
    assert isinstance(ct, ColumnTransform) and len(ct.parts) == 1
    ((_, scaling),) = ct.parts
    # copy=False: scikit-learn's own transform, which scales its input in place
    assert type(scaling).__name__ != "_ArrayTransform"
    for frame in _inputs():
        np.testing.assert_array_equal(loop(frame.copy()), in_place.predict(frame.copy()))


@pytest.mark.parametrize(
    "nothing", [slice(7, None), [np.False_] * 7], ids=["empty-slice", "numpy-falses"]
)
def test_a_selection_of_nothing_that_scikit_learn_still_stacks_keeps_its_transform(
    nothing,
) -> None:
    # scikit-learn stacks an (n, 0) float64 block for these, promoting a float32 output
    # (found by a second independent review)
    model = make_pipeline(
        ColumnTransformer(
            [
                (
                    "codes",
                    OrdinalEncoder(
                        dtype=np.float32, handle_unknown="use_encoded_value", unknown_value=-1
                    ),
                    ["color", "size"],
                ),
                ("rest", "passthrough", nothing),
            ]
        ),
        StandardScaler(),
        LinearRegression(),
    ).fit(TRAIN, TRAIN["a"])
    loop = pipeline_predict(model, "predict").fast
    ct = model.steps[0][1]
    assert loop.transforms[0] == ct.transform
    for frame in _inputs():
        assert loop.transforms[0](frame).dtype == np.float64
        _same_outcome(loop, model.predict, frame)

"""The statsmodels flavor: conformance kit, results pickles, OLS/GLM/Logit and time series."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels
import statsmodels.api as sm
import statsmodels.formula.api as smf
from mlserve_statsmodels import flavor

import mlserve
from mlserve import InvalidParameterValue, MalformedModel
from mlserve.testing import check_flavor, check_mlflow_sections, check_refuses_untrusted_pickle

FEATURES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def models(data: pd.DataFrame) -> dict[str, tuple[Any, Any]]:
    """Each fitted results object of the conformance table and its input example."""
    exog = sm.add_constant(data[FEATURES])
    binomial = sm.families.Binomial()
    return {
        "ols-ndarray": (sm.OLS(data["y"].to_numpy(), exog.to_numpy()).fit(), exog.to_numpy()[:10]),
        "ols-frame": (sm.OLS(data["y"], exog).fit(), exog.iloc[:10]),
        "ols-formula": (smf.ols("y ~ a + b + c", data=data).fit(), data[FEATURES].iloc[:10]),
        "glm-binomial": (sm.GLM(data["yb"], exog, family=binomial).fit(), exog.iloc[:10]),
        "logit-formula": (
            smf.logit("yb ~ a + b + c", data=data).fit(disp=0),
            data[FEATURES].iloc[:10],
        ),
    }


@pytest.mark.parametrize(
    "case", ["ols-ndarray", "ols-frame", "ols-formula", "glm-binomial", "logit-formula"], ids=str
)
def test_conformance(case: str, models: dict[str, tuple[Any, Any]], tmp_path: Path) -> None:
    results, example = models[case]
    check_flavor(flavor, results, example, tmp_path)


def test_saves_the_results_pickle_with_mlflow_section(
    models: dict[str, tuple[Any, Any]], data: pd.DataFrame, tmp_path: Path
) -> None:
    results, _ = models["ols-formula"]
    mlserve.save_model(results, tmp_path / "m")  # statsmodels results are picked automatically
    section = {
        "statsmodels_version": statsmodels.__version__,
        "data": "model.statsmodels",
        "code": None,
    }
    check_mlflow_sections(tmp_path / "m", "statsmodels", section, exact=True)
    # statsmodels reads the file back with its own loader
    native = sm.load(str(tmp_path / "m" / "model.statsmodels"))
    np.testing.assert_array_equal(native.params, results.params)
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.flavor == "statsmodels"
    np.testing.assert_array_equal(loaded.predict(data), results.predict(data).to_numpy())
    assert "patsy" in (tmp_path / "m" / "requirements.txt").read_text()


def test_glm_predicts_probabilities(
    models: dict[str, tuple[Any, Any]], data: pd.DataFrame, tmp_path: Path
) -> None:
    results, example = models["glm-binomial"]
    mlserve.save_model(results, tmp_path / "m", input_example=example)
    loaded = mlserve.load_model(tmp_path / "m")
    exog = sm.add_constant(data[FEATURES])
    predicted = loaded.predict(exog)
    assert ((predicted > 0) & (predicted < 1)).all()
    # equal up to rounding: the row-major copy may take another BLAS kernel than statsmodels
    np.testing.assert_allclose(predicted, results.predict(exog).to_numpy(), rtol=1e-12)
    # columns are matched to the model's exog names, whatever their order
    np.testing.assert_array_equal(
        flavor.predictor(results, {}).predict(exog[["c", "const", "b", "a"]]), predicted
    )


def test_remove_data_writes_a_smaller_model_that_still_predicts(
    models: dict[str, tuple[Any, Any]], data: pd.DataFrame, tmp_path: Path
) -> None:
    results, _ = models["ols-formula"]
    mlserve.save_model(results, tmp_path / "full")
    mlserve.save_model(results, tmp_path / "slim", remove_data=True)
    full = (tmp_path / "full" / "model.statsmodels").stat().st_size
    slim = (tmp_path / "slim" / "model.statsmodels").stat().st_size
    assert slim < full
    loaded = mlserve.load_model(tmp_path / "slim")
    np.testing.assert_allclose(loaded.predict(data), results.predict(data).to_numpy())


def test_time_series_model_predicts_from_start_and_end(data: pd.DataFrame, tmp_path: Path) -> None:
    from statsmodels.tsa.arima.model import ARIMA

    series = np.cumsum(data["a"].to_numpy())
    results = ARIMA(series, order=(1, 0, 0)).fit()
    mlserve.save_model(results, tmp_path / "m")
    loaded = mlserve.load_model(tmp_path / "m")
    assert not loaded.capabilities.batchable
    forecast = loaded.predict(pd.DataFrame({"start": [95], "end": [104]}))
    np.testing.assert_array_equal(forecast, results.predict(start=95, end=104))
    with pytest.raises(InvalidParameterValue, match="start"):
        loaded.predict(pd.DataFrame({"start": [1, 2], "end": [3, 4]}))


def test_unfitted_model_is_refused(data: pd.DataFrame, tmp_path: Path) -> None:
    model = sm.OLS(data["y"], data[FEATURES])
    assert not flavor.can_save(model)
    with pytest.raises(InvalidParameterValue, match="fit"):
        flavor.save(model, tmp_path)


def test_can_save_only_statsmodels_results(models: dict[str, tuple[Any, Any]]) -> None:
    assert flavor.can_save(models["ols-frame"][0])
    assert not flavor.can_save(np.zeros(3))
    assert not flavor.can_save("model.statsmodels")


def test_requirements_name_the_plugin_and_statsmodels() -> None:
    assert {"mlserve-statsmodels", "statsmodels"} <= set(flavor.requirements(None))


@pytest.mark.parametrize(
    ("data_entry", "content", "match"),
    [
        ("model.statsmodels", b"not a pickle", "cannot unpickle"),
        ("../outside.statsmodels", None, "outside"),
        ("missing.statsmodels", None, "missing"),
    ],
    ids=["garbage", "path-escape", "missing-file"],
)
def test_malformed_models_are_refused(
    data_entry: str, content: bytes | None, match: str, tmp_path: Path
) -> None:
    target = tmp_path / "m"
    target.mkdir()
    (tmp_path / "outside.statsmodels").write_bytes(b"x")
    if content is not None:
        (target / data_entry).write_bytes(content)
    with pytest.raises(MalformedModel, match=match):
        flavor.load(target, {"data": data_entry})


def test_trust_policy_refuses_a_pickle_before_it_runs(
    models: dict[str, tuple[Any, Any]], tmp_path: Path
) -> None:
    results, _ = models["ols-frame"]
    mlserve.save_model(results, tmp_path / "m")
    assert mlserve.load_model(tmp_path / "m", trust="no-pickle,pickle") is not None
    check_refuses_untrusted_pickle(tmp_path / "m", "model.statsmodels", tmp_path)


@pytest.mark.parametrize("case", ["ols-frame", "ols-formula", "glm-binomial", "logit-formula"])
def test_a_frame_is_answered_as_statsmodels_answers_it(
    case: str, models: dict[str, tuple[Any, Any]], tmp_path: Path
) -> None:
    # MLflow's pyfunc returns what results.predict returns: a Series indexed like the frame
    results, example = models[case]
    mlserve.save_model(results, tmp_path / "m", input_example=example)
    frame = example.set_axis(range(100, 100 + len(example)))
    predicted = mlserve.load_model(tmp_path / "m").predict(frame)
    expected = results.predict(frame)
    assert isinstance(predicted, pd.Series) and predicted.name == expected.name
    pd.testing.assert_index_equal(predicted.index, expected.index)
    np.testing.assert_allclose(predicted.to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_an_ndarray_is_answered_with_an_ndarray(
    models: dict[str, tuple[Any, Any]], tmp_path: Path
) -> None:
    results, example = models["ols-ndarray"]
    mlserve.save_model(results, tmp_path / "m", input_example=example)
    predicted = mlserve.load_model(tmp_path / "m").predict(example)
    assert type(predicted) is np.ndarray
    np.testing.assert_allclose(predicted, results.predict(example), rtol=1e-12)

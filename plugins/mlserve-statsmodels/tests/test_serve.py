"""statsmodels results served by a real ``python -m mlserve.server`` answer as statsmodels does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

import mlserve
from mlserve.testing import serve_model


@pytest.mark.slow
def test_served_predictions_equal_statsmodels(data: pd.DataFrame, tmp_path: Path) -> None:
    results = smf.ols("y ~ a + b + c", data=data).fit()
    features = data[["a", "b", "c"]]
    mlserve.save_model(results, tmp_path / "m", input_example=features.iloc[:3])
    rows = features.iloc[:20]
    payload = {"dataframe_records": rows.to_dict(orient="records")}
    with serve_model(tmp_path / "m") as served:
        predictions = served.predictions(payload)
    # statsmodels answers a Series, which MLflow writes as pd.DataFrame(series): [{"0": v}, ...]
    assert all(list(p) == ["0"] for p in predictions), predictions[:2]
    values = [p["0"] for p in predictions]
    np.testing.assert_allclose(values, results.predict(rows).to_numpy(), rtol=1e-12)


@pytest.mark.slow
def test_served_array_model_answers_a_series_as_mlflow(data: pd.DataFrame, tmp_path: Path) -> None:
    # a model fitted on a frame: mlserve predicts on a row-major copy, then answers the Series
    # statsmodels gives for the frame (checked against mlflow models serve: the same JSON)
    results = sm.OLS(data["y"], data[["a", "b", "c"]]).fit()
    mlserve.save_model(results, tmp_path / "m", input_example=data[["a", "b", "c"]].iloc[:3])
    split = {"columns": ["a", "b", "c"], "data": [[0.1, 0.2, 0.3], [1, 2, 3]], "index": [7, 9]}
    with serve_model(tmp_path / "m") as served:
        predictions = served.predictions({"dataframe_split": split})
    expected = results.predict(pd.DataFrame(split["data"], columns=split["columns"]))
    assert predictions == [{"0": pytest.approx(v, rel=1e-12)} for v in expected]

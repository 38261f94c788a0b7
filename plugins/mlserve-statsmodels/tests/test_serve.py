"""statsmodels results served by a real ``python -m mlserve.server`` answer as statsmodels does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
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
    np.testing.assert_allclose(predictions, results.predict(rows).to_numpy(), rtol=1e-12)

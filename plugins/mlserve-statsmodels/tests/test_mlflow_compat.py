"""Models written by MLflow's ``mlflow.statsmodels`` load through the ``loader_module`` mapping.

The directory is laid out exactly as MLflow writes it; the file itself is written by
statsmodels' ``results.save``, which is all MLflow does too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels
import statsmodels.formula.api as smf

import mlserve
from mlserve.testing import write_mlflow_mlmodel


def test_mlflow_written_results_load(data: pd.DataFrame, tmp_path: Path) -> None:
    results = smf.ols("y ~ a + b + c", data=data).fit()
    target = tmp_path / "m"
    target.mkdir()
    results.save(str(target / "model.statsmodels"), remove_data=False)
    section = {
        "code": None,
        "data": "model.statsmodels",
        "statsmodels_version": statsmodels.__version__,
    }
    signature = {
        "inputs": '[{"type": "double", "name": "a", "required": true}, '
        '{"type": "double", "name": "b", "required": true}, '
        '{"type": "double", "name": "c", "required": true}]',
        "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]',
        "params": None,
    }
    write_mlflow_mlmodel(
        target, "statsmodels", section, data="model.statsmodels", signature=signature
    )
    loaded = mlserve.load_model(target)
    assert loaded.flavor == "statsmodels"
    rows = data[["c", "a", "b"]]  # the signature reorders the columns
    np.testing.assert_array_equal(loaded.predict(rows), results.predict(data).to_numpy())

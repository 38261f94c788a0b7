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
import yaml

import mlserve


def test_mlflow_written_results_load(data: pd.DataFrame, tmp_path: Path) -> None:
    results = smf.ols("y ~ a + b + c", data=data).fit()
    target = tmp_path / "m"
    target.mkdir()
    results.save(str(target / "model.statsmodels"), remove_data=False)
    mlmodel = {
        "artifact_path": "model",
        "flavors": {
            "python_function": {
                "data": "model.statsmodels",
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                "loader_module": "mlflow.statsmodels",
                "python_version": "3.11.7",
            },
            "statsmodels": {
                "code": None,
                "data": "model.statsmodels",
                "statsmodels_version": statsmodels.__version__,
            },
        },
        "mlflow_version": "2.17.0",
        "model_uuid": "4a3c0a2f4c2b4a0e9a1d2c3b4a5f6e7d",
        "run_id": "0123456789abcdef0123456789abcdef",
        "signature": {
            "inputs": '[{"type": "double", "name": "a", "required": true}, '
            '{"type": "double", "name": "b", "required": true}, '
            '{"type": "double", "name": "c", "required": true}]',
            "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]',
            "params": None,
        },
        "utc_time_created": "2024-10-01 12:00:00.000000",
    }
    (target / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    loaded = mlserve.load_model(target)
    assert loaded.flavor == "statsmodels"
    rows = data[["c", "a", "b"]]  # the signature reorders the columns
    np.testing.assert_array_equal(loaded.predict(rows), results.predict(data).to_numpy())

"""A LightGBM model served by a real ``python -m mlserve.server`` answers as LightGBM does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

import mlserve
from mlserve.testing import serve_model


@pytest.mark.slow
def test_served_predictions_equal_lightgbm(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, y = seed_data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1, n_jobs=1).fit(frame, y)
    mlserve.save_model(model, tmp_path / "m", flavor="lightgbm", input_example=frame.iloc[:3])
    rows = frame.iloc[:20]
    payload = {"dataframe_split": {"columns": list(rows.columns), "data": rows.values.tolist()}}
    with serve_model(tmp_path / "m") as served:
        labels = served.predictions(payload)
    np.testing.assert_array_equal(labels, model.predict(rows))

"""An XGBoost model served by a real ``python -m mlserve.server`` answers as XGBoost does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb

import mlserve
from mlserve.testing import serve_model


@pytest.mark.slow
def test_served_predictions_equal_xgboost(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, y = seed_data
    classifier = xgb.XGBClassifier(n_estimators=5, n_jobs=1).fit(X, y)
    booster = classifier.get_booster()
    mlserve.save_model(classifier, tmp_path / "clf", flavor="xgboost", input_example=X[:3])
    mlserve.save_model(booster, tmp_path / "booster", input_example=X[:3])
    rows = X[:20]
    with serve_model(tmp_path / "clf") as served:
        labels = served.predictions({"inputs": rows.tolist()})
    np.testing.assert_array_equal(labels, classifier.predict(rows))
    with serve_model(tmp_path / "booster") as served:
        probabilities = served.predictions({"inputs": rows.tolist()})
    # JSON carries float32 exactly enough to round-trip through float64
    np.testing.assert_allclose(probabilities, booster.predict(xgb.DMatrix(rows)), rtol=1e-6)

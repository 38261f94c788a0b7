"""LightGBM models this plugin writes load in real MLflow 3 and predict what mlserve predicts.

MLflow runs in its own virtualenv (``.ci/mlflow-venvs``, with lightgbm added), driven by the
repository's peer harness, tests/store/mlflow/_mlflow_peer.py: this plugin lives in the same
repository, so its tests reuse that harness instead of carrying another.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

import mlserve

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "store" / "mlflow"))
from _mlflow_peer import check_peer, peer_python, run_peer_script

QUIET = {"verbose": -1, "num_threads": 1}

# ARGS: {"model": str, "rows": [[...]]}
PREDICT_SCRIPT = """\
import mlflow
import numpy as np

out = mlflow.pyfunc.load_model(ARGS["model"]).predict(np.asarray(ARGS["rows"]))
emit(np.asarray(out).tolist())
"""


@pytest.fixture(scope="module")
def mlflow3() -> Path:
    python = peer_python(3)
    check_peer(python, 3)
    run_peer_script(python, "import lightgbm\nemit(lightgbm.__version__)", cwd=Path.cwd())
    return python


def _models(X: Any, y: Any) -> dict[str, tuple[Any, dict[str, Any]]]:
    classifier = lgb.LGBMClassifier(n_estimators=5, **QUIET).fit(X, y)
    booster = lgb.train({"objective": "binary", **QUIET}, lgb.Dataset(X, label=y), 5)
    return {
        "booster": (booster, {}),
        "classifier-default": (classifier, {}),
        "classifier-skops": (classifier, {"serialization_format": "skops"}),
        "regressor-pickle": (
            lgb.LGBMRegressor(n_estimators=5, **QUIET).fit(X, X[:, 0]),
            {"serialization_format": "pickle"},
        ),
    }


@pytest.mark.parametrize(
    "case", ["booster", "classifier-default", "classifier-skops", "regressor-pickle"]
)
def test_mlflow_loads_and_predicts_the_same(
    case: str, mlflow3: Path, seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, y = seed_data
    model, options = _models(X, y)[case]
    mlserve.save_model(model, tmp_path / "m", flavor="lightgbm", **options)
    ours = np.asarray(mlserve.load_model(tmp_path / "m").predict(X[:20]))
    theirs = run_peer_script(
        mlflow3,
        PREDICT_SCRIPT,
        cwd=tmp_path,
        args={"model": str(tmp_path / "m"), "rows": X[:20].tolist()},
    )
    np.testing.assert_allclose(np.asarray(theirs), ours, rtol=0, atol=1e-12)

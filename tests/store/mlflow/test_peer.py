"""The MLflow harness itself: the stores are what MLflow builds, and the helpers report failures.

The fast tests need only an MLflow interpreter; the ``slow`` ones build real stores (about 10 s
each, 25 s for the server) once per session.
"""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ._mlflow_peer import (
    MODEL,
    SEED_COLUMNS,
    SEED_ROWS,
    SKOPS_MODEL,
    MlflowPeerError,
    MlflowStore,
    check_peer,
    peer_env,
    peer_python,
    run_peer_script,
)

STORES = ["mlflow3_sqlite_store", "mlflow3_file_store", "mlflow2_file_store", "mlflow3_server"]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> MlflowStore:
    return request.getfixturevalue(request.param)


def test_mlflow_is_not_importable_here() -> None:
    # the point of the harness: mlserve's MLflow support is tested without mlflow in-process
    assert importlib.util.find_spec("mlflow") is None


def test_peer_script_round_trip(mlflow3_python: Path, tmp_path: Path) -> None:
    source = "import os\nemit({'args': ARGS, 'uri': os.environ.get('MLFLOW_TRACKING_URI')})"
    out = run_peer_script(mlflow3_python, source, cwd=tmp_path, args=[1, "a"])
    assert out == {"args": [1, "a"], "uri": None}


@pytest.mark.parametrize(
    ("source", "timeout", "expected"),
    [
        ("import sys\nsys.stderr.write('marker-7')\nsys.exit(3)", 60, "exit code 3"),
        ("import sys\nsys.stderr.write('marker-7')", 60, "emitted nothing"),
        (
            "import sys, time\nsys.stderr.write('marker-7')\nsys.stderr.flush()\ntime.sleep(30)",
            2,
            "timed out",
        ),
    ],
    ids=["exit-code", "no-emit", "timeout"],
)
def test_peer_script_failure_carries_stderr(
    mlflow3_python: Path, tmp_path: Path, source: str, timeout: float, expected: str
) -> None:
    with pytest.raises(MlflowPeerError, match=expected) as caught:
        run_peer_script(mlflow3_python, source, cwd=tmp_path, timeout=timeout)
    assert "marker-7" in caught.value.stderr


def test_peer_env_drops_the_callers_mlflow_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///elsewhere.db")
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", "sqlite:///elsewhere.db")
    assert not any(key.startswith("MLFLOW_TRACKING") for key in peer_env(None))
    assert "MLFLOW_REGISTRY_URI" not in peer_env(None)
    assert peer_env("http://x")["MLFLOW_TRACKING_URI"] == "http://x"


def test_missing_interpreter_fails_under_ci_else_skips(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLSERVE_TEST_MLFLOW2_PYTHON", str(tmp_path / "no-such-python"))
    monkeypatch.setenv("MLSERVE_TEST_REQUIRE_MLFLOW", "1")
    with pytest.raises(pytest.fail.Exception, match="no-such-python"):
        peer_python(2)
    monkeypatch.delenv("MLSERVE_TEST_REQUIRE_MLFLOW")
    with pytest.raises(pytest.skip.Exception, match=r"\.ci/mlflow-venvs"):
        peer_python(2)


def test_other_scikit_learn_in_the_peer_fails(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho \'["3.17.2", "0.20.0"]\'\n')
    fake.chmod(0o755)
    with pytest.raises(pytest.fail.Exception, match=r"scikit-learn 0\.20\.0 but the test venv"):
        check_peer(fake, 3)


@pytest.mark.slow
def test_sqlite_store_is_mlflow3s_default(mlflow3_sqlite_store: MlflowStore) -> None:
    store = mlflow3_sqlite_store
    assert store.tracking_uri is None
    # what MLflow chose by itself: proves no MLFLOW_TRACKING_URI reached the seed
    assert store.resolved_tracking_uri == f"sqlite:///{store.directory}/mlflow.db"
    assert (store.directory / "mlflow.db").is_file()
    assert store.artifact_location == str(store.directory / "mlruns" / "0")
    assert store.version(SKOPS_MODEL, 1).serialization_format == "skops"


@pytest.mark.slow
def test_mlflow_predictions_follow_the_registry(store: MlflowStore) -> None:
    v1, v2 = store.version(MODEL, 1), store.version(MODEL, 2)
    first, second = store.predictions[f"models:/{MODEL}/1"], store.predictions[f"models:/{MODEL}/2"]
    assert first != second  # so a resolver that picks the wrong version is caught
    assert store.predictions[f"models:/{MODEL}@champion"] == first
    assert store.predictions[f"models:/{MODEL}/latest"] == second
    assert store.predictions[f"runs:/{v1.run_id}/{v1.artifact_path}"] == first
    assert store.predictions[f"runs:/{v2.run_id}/{v2.artifact_path}"] == second
    if store.mlflow_version.startswith("3."):
        assert store.predictions[f"models:/{v1.model_id}"] == first
        assert store.predictions[f"models:/{SKOPS_MODEL}/1"] == first  # the seed model again
    else:
        assert store.predictions[f"models:/{MODEL}/Production"] == first
        assert store.predictions[f"models:/{MODEL}/Staging"] == second


@pytest.mark.slow
def test_snapshot_reads_back_the_seed(store: MlflowStore) -> None:
    snapshot = store.snapshot()
    models = {m["name"]: m for m in snapshot["registered_models"]}
    assert set(models) == {v.name for v in store.versions}
    assert models[MODEL]["aliases"] == {"champion": 1} == store.aliases[MODEL]
    assert models[MODEL]["tags"] == {"team": "mlserve-tests"}
    assert [v["version"] for v in models[MODEL]["versions"]] == [1, 2]
    for model in models.values():
        for seen in model["versions"]:
            record = store.version(model["name"], seen["version"])
            assert (seen["source"], seen["run_id"]) == (record.source, record.run_id)
            uri = f"models:/{model['name']}/{seen['version']}"
            assert seen["predictions"] == store.predictions[uri]


@pytest.mark.slow
def test_v1_unpickled_here_predicts_what_mlflow_predicted(
    mlflow3_sqlite_store: MlflowStore,
) -> None:
    store = mlflow3_sqlite_store
    model_dir = Path(store.version(MODEL, 1).download_uri)  # a plain path in this store
    with (model_dir / "model.pkl").open("rb") as f:
        model = pickle.load(f)
    predicted = model.predict(pd.DataFrame(SEED_ROWS, columns=SEED_COLUMNS))
    np.testing.assert_array_equal(predicted, store.predictions[f"models:/{MODEL}/1"])

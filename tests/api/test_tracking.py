"""The tracking API end to end: runs, log_model, register_model, and the seed scenario."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import mlserve
from mlserve.errors import (
    InvalidName,
    InvalidParameterValue,
    ResourceAlreadyExists,
)
from mlserve.mlmodel import Model


@pytest.fixture(autouse=True)
def tracking(tmp_path: Path) -> Iterator[Path]:
    """Each test logs into its own store and leaves no active run or tracking URI behind."""
    root = tmp_path / "store"
    mlserve.set_tracking_uri(root)
    yield root
    while mlserve.active_run() is not None:
        mlserve.end_run()
    mlserve.set_tracking_uri(None)


def test_start_run_records_a_finished_run() -> None:
    with mlserve.start_run(run_name="train", tags={"team": "risk"}) as run:
        assert mlserve.active_run() is run
        assert run.info.status == "RUNNING"
        mlserve.log_param("n_estimators", 100)
        mlserve.set_tag("stage", "dev")
    assert mlserve.active_run() is None
    assert run.info.status == "FINISHED"
    assert run.info.end_time is not None and run.info.end_time >= run.info.start_time
    assert run.data.params == {"n_estimators": "100"}
    assert run.data.tags == {"team": "risk", "stage": "dev"}
    stored = mlserve.MlserveClient().get_run(run.info.run_id)
    assert stored.info == run.info
    assert stored.data == run.data


def test_a_raising_block_marks_the_run_failed() -> None:
    with pytest.raises(RuntimeError), mlserve.start_run() as run:
        raise RuntimeError("boom")
    assert run.info.status == "FAILED"
    assert mlserve.MlserveClient().get_run(run.info.run_id).info.status == "FAILED"


def test_end_run_explicitly() -> None:
    run = mlserve.start_run()
    mlserve.end_run(status="KILLED")
    assert mlserve.active_run() is None
    assert run.info.status == "KILLED"
    mlserve.end_run()  # no active run: nothing to do


def test_one_active_run_unless_nested() -> None:
    with mlserve.start_run() as parent:
        with pytest.raises(InvalidParameterValue, match="already active"):
            mlserve.start_run()
        with mlserve.start_run(nested=True) as child:
            assert mlserve.active_run() is child
            assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert mlserve.active_run() is parent


def test_active_run_is_per_thread() -> None:
    seen: list[object] = []
    with mlserve.start_run():
        thread = threading.Thread(target=lambda: seen.append(mlserve.active_run()))
        thread.start()
        thread.join()
    assert seen == [None]


def test_log_param_without_a_run_starts_one() -> None:
    mlserve.log_param("a", 1)
    run = mlserve.active_run()
    assert run is not None
    assert run.data.params == {"a": "1"}


def test_log_model_in_a_run(seed_model, seed_data, tracking: Path) -> None:  # type: ignore[no-untyped-def]
    X, _ = seed_data
    with mlserve.start_run() as run:
        info = mlserve.log_model(seed_model, "random-forest-model")
    run_id = run.info.run_id
    assert info.run_id == run_id
    assert info.artifact_path == "random-forest-model"
    assert info.model_uri == f"runs:/{run_id}/random-forest-model"
    assert "sklearn" in info.flavors
    assert info.registered_model_version is None
    directory = tracking / "runs" / run_id / "artifacts" / "random-forest-model"
    saved = Model.load(directory)
    assert (saved.run_id, saved.artifact_path) == (run_id, "random-forest-model")
    predictions = mlserve.load_model(info.model_uri).predict(pd.DataFrame(X[:5]))
    assert list(predictions) == list(seed_model.predict(X[:5]))
    # nothing but the published model is left in the run's artifacts
    assert [p.name for p in directory.parent.iterdir()] == ["random-forest-model"]


def test_log_model_without_a_run_starts_and_ends_one(seed_model) -> None:  # type: ignore[no-untyped-def]
    info = mlserve.log_model(seed_model, "model")
    assert mlserve.active_run() is None
    assert info.run_id is not None
    assert mlserve.MlserveClient().get_run(info.run_id).info.status == "FINISHED"


def test_log_model_twice_under_one_name(seed_model) -> None:  # type: ignore[no-untyped-def]
    with mlserve.start_run():
        mlserve.log_model(seed_model, "model")
        with pytest.raises(ResourceAlreadyExists):
            mlserve.log_model(seed_model, "model")


@pytest.mark.parametrize("name", ["../escape", "/abs", "a\\b", ".hidden"], ids=str)
def test_log_model_rejects_escaping_names(seed_model, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    with mlserve.start_run(), pytest.raises(InvalidName):
        mlserve.log_model(seed_model, name)
    outside = [p for p in tmp_path.rglob("*") if "store" not in p.relative_to(tmp_path).parts]
    assert outside == []


def test_seed_scenario(seed_model, seed_data) -> None:  # type: ignore[no-untyped-def]
    """DESIGN.md section 1, then latest, an alias and the run URI all predict the same."""
    X, _ = seed_data
    with mlserve.start_run() as run:
        info = mlserve.log_model(
            seed_model, "random-forest-model", registered_model_name="MyRandomForest"
        )
    assert info.registered_model_version == 1
    mlserve.MlserveClient().set_registered_model_alias("MyRandomForest", "champion", 1)
    frame = pd.DataFrame(X[:10])
    expected = list(seed_model.predict(X[:10]))
    for uri in [
        "models:/MyRandomForest/latest",
        "models:/MyRandomForest/1",
        "models:/MyRandomForest@champion",
        f"runs:/{run.info.run_id}/random-forest-model",
    ]:
        assert list(mlserve.load_model(uri).predict(frame)) == expected, uri


def test_register_model_creates_the_model_and_counts_versions(seed_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    info = mlserve.log_model(seed_model, "model")
    first = mlserve.register_model(info.model_uri, "Fraud")
    assert (first.name, first.version, first.run_id) == ("Fraud", 1, info.run_id)
    saved = mlserve.save_model(seed_model, tmp_path / "plain")
    assert saved is not None
    second = mlserve.register_model(tmp_path / "plain", "Fraud", description="from a path")
    assert second.version == 2
    assert second.description == "from a path"
    assert mlserve.load_model("models:/Fraud/latest") is not None


def test_get_tracking_uri_reflects_set(tracking: Path) -> None:
    assert mlserve.get_tracking_uri() == str(tracking)

"""Runs on disk: run.yaml records, write-once params, artifacts that must hold an MLmodel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlserve.errors import ArtifactNotFound, InvalidName, InvalidParameterValue, RunNotFound
from mlserve.store._runs import RunStore


@pytest.fixture
def runs(root: Path) -> RunStore:
    return RunStore.at()


def test_create_and_read_back(runs: RunStore, root: Path) -> None:
    run = runs.create_run("train", tags={"team": "fraud", "n": 3})
    assert (root / "runs" / run.info.run_id / "run.yaml").is_file()
    again = runs.get_run(run.info.run_id)
    assert again == run
    assert again.info.status == "RUNNING"
    assert again.info.end_time is None
    assert again.info.run_name == "train"
    assert again.data.tags == {"team": "fraud", "n": "3"}
    assert again.info.artifact_uri.endswith(f"runs/{run.info.run_id}/artifacts")


def test_default_run_name(runs: RunStore) -> None:
    run = runs.create_run()
    assert run.info.run_name == f"run-{run.info.run_id[:8]}"


def test_params_are_write_once(runs: RunStore) -> None:
    run_id = runs.create_run().info.run_id
    runs.log_param(run_id, "alpha", 0.5)
    runs.log_param(run_id, "alpha", "0.5")  # the same value again is fine
    with pytest.raises(InvalidParameterValue, match="alpha"):
        runs.log_param(run_id, "alpha", 0.7)
    assert runs.get_run(run_id).data.params == {"alpha": "0.5"}


def test_tags_overwrite(runs: RunStore) -> None:
    run_id = runs.create_run().info.run_id
    runs.set_tag(run_id, "stage", "a")
    assert runs.set_tag(run_id, "stage", "b").data.tags == {"stage": "b"}


@pytest.mark.parametrize("status", ["FINISHED", "FAILED", "KILLED"])
def test_terminate(runs: RunStore, status: str) -> None:
    run_id = runs.create_run().info.run_id
    ended = runs.set_terminated(run_id, status)
    assert ended.info.status == status
    assert ended.info.end_time is not None
    assert ended.info.end_time >= ended.info.start_time


def test_terminate_rejects_unknown_status(runs: RunStore) -> None:
    run_id = runs.create_run().info.run_id
    with pytest.raises(InvalidParameterValue, match="FINISHED"):
        runs.set_terminated(run_id, "DONE")


def test_unknown_run(runs: RunStore) -> None:
    with pytest.raises(RunNotFound) as info:
        runs.get_run("0" * 32)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize("run_id", ["../../etc", "a/b", ".."], ids=["escape", "slash", "dotdot"])
def test_run_ids_cannot_escape(runs: RunStore, run_id: str) -> None:
    with pytest.raises(InvalidName):
        runs.get_run(run_id)


def test_artifact_dir_needs_an_mlmodel(runs: RunStore, make_model: Callable[..., Path]) -> None:
    run_id = runs.create_run().info.run_id
    make_model(runs.store.local_path(runs.artifact_key(run_id, "model")))
    assert (runs.artifact_dir(run_id, "model") / "MLmodel").is_file()
    with pytest.raises(ArtifactNotFound, match="run artifacts: model"):
        runs.artifact_dir(run_id, "other")
    with pytest.raises(InvalidName):
        runs.artifact_dir(run_id, "../other")
    assert runs.list_artifacts(run_id) == ["model"]


def test_list_runs_oldest_first(runs: RunStore) -> None:
    ids = [runs.create_run().info.run_id for _ in range(3)]
    assert {r.info.run_id for r in runs.list_runs()} == set(ids)
    starts = [r.info.start_time for r in runs.list_runs()]
    assert starts == sorted(starts)

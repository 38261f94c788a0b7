"""resolve_model_uri: every URI form to a local model directory, and every way to miss."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlserve.errors import (
    AliasNotFound,
    ArtifactNotFound,
    InvalidName,
    InvalidURI,
    ModelVersionNotFound,
    RegisteredModelNotFound,
    RunNotFound,
)
from mlserve.store import resolve_model_uri, set_tracking_uri
from mlserve.store._registry import Registry
from mlserve.store._runs import RunStore


@pytest.fixture
def setup(root: Path, make_model: Callable[..., Path]) -> dict[str, Path | str]:
    runs = RunStore.at()
    run_id = runs.create_run().info.run_id
    first = make_model(runs.store.local_path(runs.artifact_key(run_id, "m1")), "1")
    second = make_model(runs.store.local_path(runs.artifact_key(run_id, "m2")), "2")
    registry = Registry.at()
    registry.create_registered_model("M")
    registry.create_model_version("M", f"runs:/{run_id}/m1")
    registry.create_model_version("M", f"runs:/{run_id}/m2")
    registry.set_alias("M", "champion", 1)
    return {"run_id": run_id, "first": first, "second": second}


def test_plain_path_and_file_uri(model_dir: Path) -> None:
    assert resolve_model_uri(model_dir) == model_dir
    assert resolve_model_uri(str(model_dir)) == model_dir
    assert resolve_model_uri(model_dir.as_uri()) == model_dir
    assert resolve_model_uri(model_dir / "MLmodel") == model_dir


def test_relative_path_is_made_absolute(model_dir: Path, tmp_path: Path) -> None:
    resolved = resolve_model_uri(model_dir.relative_to(tmp_path))
    assert resolved.is_absolute()
    assert resolved == model_dir


def test_directory_without_mlmodel(tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFound) as info:
        resolve_model_uri(tmp_path)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize(
    ("uri", "key"),
    [
        ("runs:/{run_id}/m1", "first"),
        ("runs:/{run_id}/m2/", "second"),
        ("models:/M/1", "first"),
        ("models:/M/2", "second"),
        ("models:/M/latest", "second"),
        ("models:/M@champion", "first"),
    ],
    ids=["runs", "runs-trailing-slash", "version-1", "version-2", "latest", "alias"],
)
def test_store_uris(setup: dict[str, Path | str], uri: str, key: str) -> None:
    assert resolve_model_uri(uri.format(run_id=setup["run_id"])) == setup[key]


def test_explicit_tracking_uri(
    setup: dict[str, Path | str], root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_tracking_uri(None)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the default ./mlserve-store is now empty
    assert resolve_model_uri("models:/M/1", tracking_uri=str(root)) == setup["first"]
    assert resolve_model_uri("models:/M/1", tracking_uri=root.as_uri()) == setup["first"]
    with pytest.raises(RegisteredModelNotFound):
        resolve_model_uri("models:/M/1")


@pytest.mark.parametrize(
    ("uri", "error", "listed"),
    [
        ("models:/Nope/1", RegisteredModelNotFound, "Registered models: M"),
        ("models:/M/7", ModelVersionNotFound, "Versions: 1, 2"),
        ("models:/M@staging", AliasNotFound, "Aliases: champion"),
        ("runs:/{run_id}/missing", ArtifactNotFound, "m1, m2"),
        ("runs:/0123abcd/m1", RunNotFound, "0123abcd"),
        ("models:/../1", InvalidName, ".."),
        ("runs:/../m1", InvalidName, ".."),
        ("s3://bucket/m", InvalidURI, "unsupported scheme"),
    ],
    ids=["model", "version", "alias", "artifact", "run", "model-escape", "run-escape", "scheme"],
)
def test_misses_name_what_exists(
    setup: dict[str, Path | str], uri: str, error: type[Exception], listed: str
) -> None:
    with pytest.raises(error) as info:
        resolve_model_uri(uri.format(run_id=setup["run_id"]))
    assert listed in str(info.value)


def test_version_whose_files_vanished(setup: dict[str, Path | str]) -> None:
    import shutil

    shutil.rmtree(setup["first"])
    with pytest.raises(ArtifactNotFound, match="models:/M@champion"):
        resolve_model_uri("models:/M@champion")

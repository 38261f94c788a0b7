"""Store fixtures: a tracking root per test, hand-made model directories, the registry on that
root and a model logged in a run there."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mlserve.store import set_tracking_uri
from mlserve.store._registry import Registry
from mlserve.store._runs import RunStore


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    """The tracking root of this test (``tmp_path / "mlruns"``), set as the tracking URI."""
    path = tmp_path / "mlruns"
    set_tracking_uri(path)
    yield path
    set_tracking_uri(None)


def make_model_dir(path: Path, marker: str = "x") -> Path:
    """A minimal model directory: an MLmodel file (the store never parses it) and a data file."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "MLmodel").write_text(f"flavors:\n  python_function: {{}}\nmarker: {marker}\n")
    (path / "data.txt").write_text(marker)
    return path


@pytest.fixture
def make_model() -> Callable[..., Path]:
    """``make_model(path, marker="x")`` writes a minimal model directory."""
    return make_model_dir


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A model directory outside the tracking root."""
    return make_model_dir(tmp_path / "outside-model")


@pytest.fixture
def registry(root: Path) -> Registry:
    """The registry of this test's tracking root."""
    return Registry.at()


@pytest.fixture
def logged(root: Path, make_model: Callable[..., Path]) -> str:
    """A ``runs:/`` URI of a hand-made model logged in a fresh run."""
    runs = RunStore.at()
    run_id = runs.create_run().info.run_id
    make_model(runs.store.local_path(runs.artifact_key(run_id, "model")), marker="run")
    return f"runs:/{run_id}/model"

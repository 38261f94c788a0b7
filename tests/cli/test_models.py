"""``mlserve models ...`` run as a real subprocess against a real tracking store.

The subprocess tests are marked slow (each starts Python and imports the whole CLI); the error
table runs the same ``main`` in process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlserve.store._registry import Registry
from mlserve.store._runs import RunStore


def _model(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "MLmodel").write_text("flavors:\n  python_function: {}\n")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store with model ``Fraud`` (versions 1, 2; alias champion -> 1) and an empty ``Churn``."""
    root = tmp_path / "store"
    runs = RunStore.at(root)
    run_id = runs.create_run().info.run_id
    _model(runs.store.local_path(runs.artifact_key(run_id, "model")))
    registry = Registry.at(root)
    registry.create_registered_model("Fraud")
    registry.create_registered_model("Churn")
    registry.create_model_version("Fraud", f"runs:/{run_id}/model")
    registry.create_model_version("Fraud", f"runs:/{run_id}/model")
    registry.set_alias("Fraud", "champion", 1)
    return root


def mlserve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlserve.cli", "models", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_list(store: Path) -> None:
    out = mlserve("list", "--tracking-uri", str(store))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAME", "LATEST", "ALIASES"]
    assert lines[1].split()[:2] == ["Churn", "-"]
    assert lines[2].split()[:3] == ["Fraud", "2", "champion=1"]


@pytest.mark.slow
def test_list_json_with_filter_and_env_location(store: Path) -> None:
    out = mlserve(
        "list", "--json", "--filter", "name LIKE 'F%'", env={"MLSERVE_TRACKING_URI": str(store)}
    )
    assert out.returncode == 0, out.stderr
    (model,) = json.loads(out.stdout)
    assert (model["name"], model["latest_version"], model["aliases"]) == (
        "Fraud",
        2,
        {"champion": 1},
    )


@pytest.mark.slow
def test_list_empty_store(tmp_path: Path) -> None:
    out = mlserve("list", "--tracking-uri", (tmp_path / "nothing").as_uri())
    where = f"mlserve's store {(tmp_path / 'nothing').as_uri()}"
    assert (out.returncode, out.stdout.strip()) == (0, f"No registered models in {where}.")
    assert not (tmp_path / "nothing").exists()


@pytest.mark.slow
def test_versions(store: Path) -> None:
    out = mlserve("versions", "Fraud", "--tracking-uri", str(store))
    assert out.returncode == 0, out.stderr
    rows = [line.split()[:2] for line in out.stdout.splitlines()[1:]]
    assert rows == [["1", "champion"], ["2", "-"]]
    as_json = json.loads(
        mlserve("versions", "Fraud", "--json", "--tracking-uri", str(store)).stdout
    )
    assert [v["version"] for v in as_json] == [1, 2]


@pytest.mark.slow
def test_alias_and_delete_alias(store: Path) -> None:
    out = mlserve("alias", "Fraud", "champion", "2", "--tracking-uri", str(store))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "models:/Fraud@champion -> version 2"
    assert Registry.at(store).aliases("Fraud") == {"champion": 2}
    out = mlserve("delete-alias", "Fraud", "champion", "--tracking-uri", str(store))
    assert out.returncode == 0, out.stderr
    assert Registry.at(store).aliases("Fraud") == {}


@pytest.mark.slow
def test_register_and_resolve(store: Path, tmp_path: Path) -> None:
    source = _model(tmp_path / "plain")
    out = mlserve("register", str(source), "New", "--tracking-uri", str(store))
    assert out.returncode == 0, out.stderr
    assert "'New' version 1" in out.stdout
    out = mlserve("resolve", "models:/New/latest", "--tracking-uri", str(store))
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == store / "models" / "New" / "artifacts" / "1"


@pytest.mark.slow
def test_errors_are_one_line_and_exit_1(store: Path) -> None:
    out = mlserve("versions", "Nope", "--tracking-uri", str(store))
    assert out.returncode == 1
    assert out.stderr.startswith("mlserve: error: ")
    assert "Registered models: Churn, Fraud" in out.stderr
    assert "Traceback" not in out.stderr


# the same command line in process: every error path without paying for a process each
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("alias", "Fraud", "champion", "9"), "Versions: 1, 2"),
        (("delete-alias", "Fraud", "staging"), "Aliases: champion"),
        (("alias", "Fraud", "latest", "1"), "reserved"),
        (("versions", "../escape"), "path separator"),
        (("resolve", "models:/Fraud@nope"), "Aliases: champion"),
        (("resolve", "models:/Fraud/Production"), "alias"),
    ],
    ids=["version", "alias", "reserved-alias", "escape", "resolve-alias", "stage"],
)
def test_error_messages(
    store: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    from mlserve.cli import main

    assert main(["models", *args, "--tracking-uri", str(store)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlserve: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_bad_tracking_uri(capsys: pytest.CaptureFixture[str]) -> None:
    from mlserve.cli import main

    assert main(["models", "list", "--tracking-uri", "s3://bucket/store"]) == 1
    err = capsys.readouterr().err
    assert "tracking URI" in err and "sqlite:///" in err

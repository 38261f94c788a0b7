"""mlserve never damages or shadows an MLflow store, and copies versions out of one faithfully.

MLflow's own client reads the store before and after mlserve has worked in the same directory
(listed, resolved, served nothing; logged, registered and imported into its own store; tried to
write into MLflow's and was refused): the two snapshots must be equal, and no file of MLflow's
may have changed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import mlserve
from mlserve.errors import ReadOnlyStore
from mlserve.store._imports import IMPORTED_FROM_TAG, import_model_versions

from ._mlflow_peer import MODEL, SEED_COLUMNS, SEED_ROWS, MlflowStore, mlflow_snapshot

pytestmark = pytest.mark.slow

_CLI = [sys.executable, "-c", "import sys; from mlserve.cli import main; sys.exit(main())"]


def _digest(root: Path, skip: str) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``root`` outside ``skip``."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and skip not in p.relative_to(root).parts
    }


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "MLSERVE_CACHE_DIR": str(cwd / ".cache")}
    return subprocess.run(
        [*_CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("fixture", ["mlflow3_sqlite_store", "mlflow2_file_store"])
def test_mlflow_still_reads_its_store_after_mlserve_worked_there(
    fixture: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seed_model: object,
) -> None:
    store: MlflowStore = request.getfixturevalue(fixture)
    work = tmp_path / "work"
    shutil.copytree(store.directory, work)  # the fixture is shared: work on a copy
    before = mlflow_snapshot(store.python, None, work)
    files = _digest(work, "mlserve-store")

    # what a user does with mlserve in that directory, on the command line...
    listed = _cli(work, "models", "list")
    assert listed.returncode == 0 and MODEL in listed.stdout, listed.stderr
    assert _cli(work, "models", "resolve", f"models:/{MODEL}@champion").returncode == 0
    imported = _cli(work, "models", "import", f"models:/{MODEL}/latest", "--all-versions")
    assert imported.returncode == 0, imported.stderr
    # ... and in Python, writing to its own default store
    monkeypatch.chdir(work)
    with mlserve.start_run():
        mlserve.log_model(seed_model, "rf", registered_model_name="LoggedByMlserve")
    # a write aimed at MLflow's store is refused and changes nothing
    mlflow_uri = "mlruns" if store.mlflow_version.startswith("2.") else "sqlite:///mlflow.db"
    with pytest.raises(ReadOnlyStore):
        mlserve.MlserveClient(mlflow_uri)
    mlserve.set_tracking_uri(mlflow_uri)
    try:
        with pytest.raises(ReadOnlyStore):
            mlserve.register_model(f"models:/{MODEL}/1", "Again")
    finally:
        mlserve.set_tracking_uri(None)

    assert _digest(work, "mlserve-store") == files
    assert mlflow_snapshot(store.python, None, work) == before
    # mlserve's own store is beside MLflow's, not inside it
    assert (work / "mlserve-store" / "models" / "LoggedByMlserve").is_dir()
    assert not (work / "mlruns" / "runs").exists()


def test_import_copies_versions_aliases_tags(
    mlflow3_sqlite_store: MlflowStore, tmp_path: Path
) -> None:
    store = mlflow3_sqlite_store
    ours = tmp_path / "ours"
    done = import_model_versions(
        f"models:/{MODEL}/latest",
        from_uri=f"sqlite:///{store.directory / 'mlflow.db'}",
        tracking_uri=ours,
        all_versions=True,
    )
    assert [(d.source, d.version.version) for d in done] == [
        (f"models:/{MODEL}/1", 1),
        (f"models:/{MODEL}/2", 2),
    ]
    client = mlserve.MlserveClient(ours)
    model = client.get_registered_model(MODEL)
    assert (model.aliases, model.tags) == ({"champion": 1}, {"team": "mlserve-tests"})
    v1 = client.get_model_version(MODEL, 1)
    assert v1.tags["validated"] == "true"
    assert v1.tags[IMPORTED_FROM_TAG].endswith(f"models:/{MODEL}/1")
    assert v1.run_id == store.version(MODEL, 1).run_id
    rows = pd.DataFrame(SEED_ROWS, columns=SEED_COLUMNS)
    for uri in (f"models:/{MODEL}/1", f"models:/{MODEL}/2", f"models:/{MODEL}@champion"):
        path = mlserve.store.resolve_model_uri(uri, tracking_uri=str(ours))
        assert path.is_relative_to(ours)  # a copy, not a pointer into MLflow's store
        loaded = mlserve.load_model(path)
        assert loaded.predict(rows).tolist() == store.predictions[uri]
        assert loaded.verified  # the copy carries digests of its files, checked at load
    # a file changed after the import is refused, as in any model mlserve saved
    one = mlserve.store.resolve_model_uri(f"models:/{MODEL}/1", tracking_uri=str(ours))
    with open(one / "model.pkl", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(mlserve.DigestMismatch, match=r"model\.pkl"):
        mlserve.load_model(one)


def test_import_keeps_the_stage_as_a_tag(mlflow2_file_store: MlflowStore, tmp_path: Path) -> None:
    store = mlflow2_file_store
    done = import_model_versions(
        f"models:/{MODEL}/Production",
        from_uri=store.directory / "mlruns",
        tracking_uri=tmp_path / "ours",
        name="Prod",
    )
    (only,) = done
    assert (only.source, only.version.name, only.version.version) == (
        f"models:/{MODEL}/1",
        "Prod",
        1,
    )
    assert only.version.tags["mlflow.stage"] == "Production"
    assert only.version.aliases == ("champion",)

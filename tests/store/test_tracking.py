"""The tracking location: set_tracking_uri > MLSERVE_TRACKING_URI > MLFLOW_TRACKING_URI > default.

Writes go only to mlserve's own store; MLflow's stores are refused with a message that says what
to do instead.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlserve.errors import ReadOnlyStore, UnsupportedStore
from mlserve.store import get_tracking_uri, resolve_tracking_root, set_tracking_uri
from mlserve.store._registry import Registry


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    set_tracking_uri(None)


def test_default_is_mlserve_store_in_the_current_directory(tmp_path: Path) -> None:
    # not ./mlruns: that is MLflow's, and mlserve never writes into MLflow's layout
    assert get_tracking_uri() == (tmp_path / "mlserve-store").as_uri()
    assert resolve_tracking_root() == tmp_path / "mlserve-store"


def test_default_follows_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    assert resolve_tracking_root() == other / "mlserve-store"


def test_environment_variable_beats_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLSERVE_TRACKING_URI", str(tmp_path / "from-env"))
    assert get_tracking_uri() == str(tmp_path / "from-env")
    assert resolve_tracking_root() == tmp_path / "from-env"


def test_mlserve_variable_beats_mlflow_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert get_tracking_uri() == "http://127.0.0.1:5000"
    monkeypatch.setenv("MLSERVE_TRACKING_URI", str(tmp_path / "ours"))
    assert get_tracking_uri() == str(tmp_path / "ours")
    assert resolve_tracking_root() == tmp_path / "ours"


def test_set_tracking_uri_beats_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLSERVE_TRACKING_URI", str(tmp_path / "from-env"))
    set_tracking_uri((tmp_path / "explicit").as_uri())
    assert resolve_tracking_root() == tmp_path / "explicit"
    set_tracking_uri(None)
    assert resolve_tracking_root() == tmp_path / "from-env"


def test_relative_paths_resolve_at_use_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_tracking_uri("store")
    assert get_tracking_uri() == "store"
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert resolve_tracking_root() == tmp_path / "sub" / "store"


def test_path_objects_are_accepted(tmp_path: Path) -> None:
    set_tracking_uri(tmp_path / "p")
    assert resolve_tracking_root() == tmp_path / "p"


@pytest.mark.parametrize(
    "uri",
    [
        "s3://bucket/mlruns",
        "postgresql://u@localhost/mlflow",
        "mysql+pymysql://u@h/db",
        "sqlite+pysqlite:///x.db",
        "sqlite://",
        "sqlite:///:memory:",
        "databricks://profile",
    ],
    ids=["s3", "postgres", "mysql", "sqlite-driver", "sqlite-memory", "memory", "databricks"],
)
def test_unsupported_stores_name_the_supported_kinds(uri: str) -> None:
    with pytest.raises(UnsupportedStore) as info:
        set_tracking_uri(uri)
    assert info.value.uri == uri
    assert "tracking" in str(info.value) or "sqlite" in str(info.value)
    assert get_tracking_uri().endswith("mlserve-store")  # the failed call changed nothing


def _mlflow_db(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        for table in ("registered_models", "model_versions", "runs"):
            conn.execute(f"CREATE TABLE {table} (name TEXT)")
    return path


@pytest.mark.parametrize(
    "kind",
    ["sqlite", "server", "mlflow-file-store", "empty-dir-from-mlflow-variable"],
)
def test_writes_to_mlflow_stores_are_refused(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "sqlite":
        uri = f"sqlite:///{_mlflow_db(tmp_path / 'mlflow.db')}"
    elif kind == "server":
        uri = "http://127.0.0.1:5000"
    elif kind == "mlflow-file-store":
        (tmp_path / "mlruns" / "0").mkdir(parents=True)
        (tmp_path / "mlruns" / "0" / "meta.yaml").write_text("name: Default\n")
        uri = str(tmp_path / "mlruns")
    else:
        uri = str(tmp_path / "new")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        with pytest.raises(ReadOnlyStore, match="MLflow's file store"):
            resolve_tracking_root()
        assert not (tmp_path / "new").exists()
        return
    set_tracking_uri(uri)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(ReadOnlyStore) as info:
        Registry.at().create_registered_model("M")
    assert "MLSERVE_TRACKING_URI" in str(info.value) and "mlserve models import" in str(info.value)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_reading_creates_nothing(tmp_path: Path) -> None:
    assert Registry.at().names() == []
    assert os.listdir(tmp_path) == []

"""Which stores a tracking URI names and the default read chain, decided from URIs and contents."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from mlserve.errors import UnsupportedStore
from mlserve.store._locations import detect_directory, locate, read_locations, write_location


def _mlflow_file_store(root: Path) -> Path:
    (root / "0").mkdir(parents=True)
    (root / "0" / "meta.yaml").write_text("experiment_id: '0'\nname: Default\n")
    return root


def _mlserve_store(root: Path) -> Path:
    (root / "runs" / "abc").mkdir(parents=True)
    (root / "runs" / "abc" / "run.yaml").write_text("run_id: abc\n")
    return root


def _sqlite(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    return path


def _kinds(found: list) -> list[tuple[str, str]]:
    return [(loc.kind, Path(loc.path).name) for loc in found]


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("empty", None),
        ("experiment", "mlflow-file"),
        ("registered-model", "mlflow-file"),
        ("mlserve-run", "mlserve"),
        ("mlserve-model", "mlserve"),
        ("both", "mlflow-file"),
        ("digit-without-meta", None),
    ],
)
def test_detect_directory(layout: str, expected: str | None, tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    if layout in ("experiment", "both"):
        _mlflow_file_store(root)
    if layout == "registered-model":
        (root / "models" / "M").mkdir(parents=True)
        (root / "models" / "M" / "meta.yaml").write_text("name: M\n")
    if layout in ("mlserve-run", "both"):
        _mlserve_store(root)
    if layout == "mlserve-model":
        (root / "models" / "M").mkdir(parents=True)
        (root / "models" / "M" / "registered_model.yaml").write_text("name: M\n")
    if layout == "digit-without-meta":
        (root / "0").mkdir()
    assert detect_directory(root) == expected


def test_default_chain_in_an_empty_directory(tmp_path: Path) -> None:
    assert _kinds(read_locations()) == [("mlserve", "mlserve-store")]


def test_default_chain_reads_mlflow_3_default_database(tmp_path: Path) -> None:
    _sqlite(tmp_path / "mlflow.db")
    (tmp_path / "mlruns" / "0" / "models").mkdir(parents=True)  # MLflow 3's artifacts, no meta
    found = read_locations()
    assert _kinds(found) == [("mlserve", "mlserve-store"), ("mlflow-sqlite", "mlflow.db")]
    assert found[1].uri == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert found[1].read_only and not found[0].read_only


def test_default_chain_prefers_mlflow_file_store_by_mlflows_own_rule(tmp_path: Path) -> None:
    # MLflow picks ./mlruns over ./mlflow.db when ./mlruns holds experiments; so do we
    _mlflow_file_store(tmp_path / "mlruns")
    _sqlite(tmp_path / "mlflow.db")
    assert _kinds(read_locations()) == [("mlserve", "mlserve-store"), ("mlflow-file", "mlruns")]


def test_default_chain_keeps_an_old_mlserve_store_in_mlruns_readable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _mlserve_store(tmp_path / "mlruns")
    with caplog.at_level(logging.WARNING, logger="mlserve.store._locations"):
        found = read_locations()
    assert _kinds(found) == [("mlserve", "mlserve-store"), ("mlserve", "mlruns")]
    assert "mv mlruns mlserve-store" in caplog.text


def test_a_configured_uri_names_one_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _sqlite(tmp_path / "mlflow.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000/")
    found = read_locations()
    assert [(f.kind, f.uri, f.origin) for f in found] == [
        ("mlflow-server", "http://127.0.0.1:5000", "MLFLOW_TRACKING_URI")
    ]


def test_registry_uri_applies_to_registry_lookups_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", "http://127.0.0.1:6000")
    assert [f.uri for f in read_locations(registry=True)] == ["http://127.0.0.1:6000"]
    assert [f.uri for f in read_locations()] == ["http://127.0.0.1:5000"]
    # mlserve's own variable chose the store: MLflow's registry variable does not override it
    monkeypatch.setenv("MLSERVE_TRACKING_URI", str(tmp_path / "ours"))
    assert [f.kind for f in read_locations(registry=True)] == ["mlserve"]


def test_explicit_argument_beats_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLSERVE_TRACKING_URI", "http://127.0.0.1:1")
    assert [f.path for f in read_locations(str(tmp_path / "x"))] == [tmp_path / "x"]


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("sqlite:///rel.db", "mlflow-sqlite"),
        ("https://mlflow.example.com:8443/prefix/", "mlflow-server"),
        ("HTTP://h:1", "mlflow-server"),
    ],
)
def test_locate_by_form(uri: str, kind: str, tmp_path: Path) -> None:
    location = locate(uri)
    assert location.kind == kind
    if kind == "mlflow-sqlite":
        assert location.path == tmp_path / "rel.db"
    else:
        assert not location.uri.endswith("/")


def test_locate_absolute_sqlite_uri(tmp_path: Path) -> None:
    assert locate(f"sqlite:///{tmp_path}/a b.db").path == tmp_path / "a b.db"
    assert locate(f"sqlite:///{tmp_path}/a%20b.db").path == tmp_path / "a b.db"


def test_a_database_file_given_as_a_path_is_mlflows(tmp_path: Path) -> None:
    db = _sqlite(tmp_path / "mlflow.db")
    assert locate(str(db)).kind == "mlflow-sqlite"
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UnsupportedStore, match="a file"):
        locate(str(tmp_path / "notes.txt"))


def test_write_location_defaults_to_mlserve_store(tmp_path: Path) -> None:
    _sqlite(tmp_path / "mlflow.db")
    location = write_location()
    assert (location.kind, location.path) == ("mlserve", tmp_path / "mlserve-store")

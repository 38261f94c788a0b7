"""The tracking location: set_tracking_uri > MLSERVE_TRACKING_URI > ./mlruns, resolved at use."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlserve.errors import InvalidURI
from mlserve.store import get_tracking_uri, resolve_tracking_root, set_tracking_uri
from mlserve.store.registry import Registry


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    set_tracking_uri(None)


def test_default_is_mlruns_in_the_current_directory(tmp_path: Path) -> None:
    assert get_tracking_uri() == (tmp_path / "mlruns").as_uri()
    assert resolve_tracking_root() == tmp_path / "mlruns"


def test_default_follows_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    assert resolve_tracking_root() == other / "mlruns"


def test_environment_variable_beats_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLSERVE_TRACKING_URI", str(tmp_path / "from-env"))
    assert get_tracking_uri() == str(tmp_path / "from-env")
    assert resolve_tracking_root() == tmp_path / "from-env"


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
    "uri", ["s3://bucket/mlruns", "http://localhost:5000", "databricks"], ids=["s3", "http", "db"]
)
def test_remote_locations_are_rejected(uri: str) -> None:
    if uri == "databricks":  # a bare word is a relative path, which is fine
        set_tracking_uri(uri)
        return
    with pytest.raises(InvalidURI, match="tracking location"):
        set_tracking_uri(uri)
    with pytest.raises(InvalidURI):
        resolve_tracking_root(uri)


def test_reading_creates_nothing(tmp_path: Path) -> None:
    assert Registry.at().names() == []
    assert not (tmp_path / "mlruns").exists()
    assert os.listdir(tmp_path) == []

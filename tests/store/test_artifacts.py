"""LocalArtifactStore: atomic create-if-absent, atomic replace, all-or-nothing publish."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mlserve.errors import ArtifactNotFound, InvalidName, ResourceAlreadyExists
from mlserve.store import ArtifactStore, LocalArtifactStore


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "root")


def test_satisfies_the_protocol(store: LocalArtifactStore) -> None:
    assert isinstance(store, ArtifactStore)


def test_root_is_created_by_the_first_write_only(store: LocalArtifactStore) -> None:
    assert store.list_dir("a") == []
    assert not store.exists("a/b")
    assert not store.root.exists()
    store.write_bytes("a/b", b"1")
    assert store.read_bytes("a/b") == b"1"


def test_missing_key_is_artifact_not_found(store: LocalArtifactStore) -> None:
    with pytest.raises(ArtifactNotFound):
        store.read_bytes("nope")


def test_write_replaces_and_leaves_no_temp_files(store: LocalArtifactStore) -> None:
    store.write_bytes("d/f", b"old")
    store.write_bytes("d/f", b"new")
    assert store.read_bytes("d/f") == b"new"
    assert sorted(p.name for p in (store.root / "d").iterdir()) == ["f"]


def test_create_if_absent_has_exactly_one_winner(store: LocalArtifactStore) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(16)

    def claim() -> None:
        barrier.wait()
        results.append(store.create_if_absent("claims/1", b"me"))

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1
    assert store.create_if_absent("claims/1") is False


def test_list_dir_hides_temporary_entries(store: LocalArtifactStore) -> None:
    store.write_bytes("d/visible", b"")
    staging = store.staging_dir("d/model")
    assert staging.exists()
    assert store.list_dir("d") == ["visible"]


def test_publish_dir_is_all_or_nothing(store: LocalArtifactStore) -> None:
    staging = store.staging_dir("models/m")
    (staging / "MLmodel").write_text("x")
    assert not store.exists("models/m")
    store.publish_dir(staging, "models/m")
    assert store.read_bytes("models/m/MLmodel") == b"x"
    assert not staging.exists()


def test_publish_dir_refuses_to_overwrite(store: LocalArtifactStore) -> None:
    first = store.staging_dir("m")
    (first / "f").write_text("1")
    store.publish_dir(first, "m")
    second = store.staging_dir("m")
    (second / "f").write_text("2")
    with pytest.raises(ResourceAlreadyExists):
        store.publish_dir(second, "m")
    store.discard(second)
    assert store.read_bytes("m/f") == b"1"
    assert [p.name for p in store.root.iterdir()] == ["m"]  # no staging left behind


def test_delete_tree_makes_the_key_disappear(store: LocalArtifactStore) -> None:
    store.write_bytes("t/a/b", b"1")
    store.delete_tree("t")
    assert not store.exists("t")
    assert list(store.root.iterdir()) == []
    store.delete_tree("t")  # missing is fine
    store.delete("t/a/b")


@pytest.mark.parametrize(
    "key",
    ["../x", "a/../../x", "/abs", "a//b", "a\\b", "", "a/./b"],
    ids=["parent", "nested-parent", "absolute", "empty-part", "backslash", "empty", "dot"],
)
def test_keys_cannot_leave_the_root(store: LocalArtifactStore, key: str) -> None:
    with pytest.raises(InvalidName):
        store.write_bytes(key, b"x")
    assert not store.root.exists()

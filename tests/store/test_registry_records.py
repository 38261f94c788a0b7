"""What the registry records and reports: timestamps, metadata, the files it leaves, the data its
errors carry, and which version a ``models:/`` URI resolves to."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from mlserve._uri import RegistryURI
from mlserve.errors import (
    AliasNotFound,
    ArtifactNotFound,
    InvalidURI,
    ModelVersionNotFound,
    RegisteredModelNotFound,
    ResourceAlreadyExists,
    StoreError,
)
from mlserve.store._artifacts import LocalArtifactStore
from mlserve.store._files import now_ms
from mlserve.store._registry import Registry


@pytest.fixture
def two_copies(registry: Registry, tmp_path: Path, make_model: Callable[..., Path]) -> Registry:
    """Model ``M`` with versions 1 and 2 copied from plain paths (data ``one`` and ``two``)."""
    registry.create_registered_model("M")
    registry.create_model_version("M", make_model(tmp_path / "v1", marker="one"))
    registry.create_model_version("M", make_model(tmp_path / "v2", marker="two"))
    return registry


def _tick() -> None:
    """Let the millisecond clock move on, so an update's timestamp differs from the last one."""
    start = now_ms()
    while now_ms() == start:
        time.sleep(0.001)


def _yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text())


def test_at_opens_the_store_it_is_given(root: Path, tmp_path: Path) -> None:
    other = Registry.at(tmp_path / "other")
    other.create_registered_model("M")
    assert (tmp_path / "other" / "models" / "M" / "registered_model.yaml").is_file()
    assert Registry.at().names() == []
    assert Registry.at(tmp_path / "other").names() == ["M"]


def test_timestamps_of_a_registered_model(registry: Registry) -> None:
    before = now_ms()
    created = registry.create_registered_model("M")
    assert before <= created.creation_timestamp == created.last_updated_timestamp <= now_ms()
    _tick()
    updated = registry.update_registered_model("M", "d")
    assert updated.creation_timestamp == created.creation_timestamp
    assert updated.last_updated_timestamp > created.last_updated_timestamp
    _tick()
    tagged = registry.set_registered_model_tag("M", "k", "v")
    assert tagged.last_updated_timestamp > updated.last_updated_timestamp
    assert (
        registry.get_registered_model("M").last_updated_timestamp == tagged.last_updated_timestamp
    )


def test_timestamps_of_a_version(registry: Registry, logged: str) -> None:
    registry.create_registered_model("M")
    before = now_ms()
    created = registry.create_model_version("M", logged)
    assert before <= created.creation_timestamp == created.last_updated_timestamp <= now_ms()
    _tick()
    updated = registry.update_model_version("M", 1, "d")
    assert updated.creation_timestamp == created.creation_timestamp
    assert updated.last_updated_timestamp > created.last_updated_timestamp
    _tick()
    tagged = registry.set_model_version_tag("M", 1, "k", "v")
    assert tagged.last_updated_timestamp > updated.last_updated_timestamp
    assert (
        registry.get_model_version("M", 1).last_updated_timestamp == tagged.last_updated_timestamp
    )


def test_descriptions_default_to_empty(registry: Registry, logged: str) -> None:
    assert registry.create_registered_model("M").description == ""
    assert registry.get_registered_model("M").description == ""
    assert registry.create_model_version("M", logged).description == ""
    assert registry.get_model_version("M", 1).description == ""
    registry.update_registered_model("M", "d")
    registry.update_model_version("M", 1, "d")
    # clearing a description (MLflow's clients send "" or nothing) leaves it empty
    assert registry.update_registered_model("M", None).description == ""  # type: ignore[arg-type]
    assert registry.update_model_version("M", 1, "").description == ""


def test_a_version_keeps_the_description_and_tags_it_was_created_with(
    registry: Registry, logged: str
) -> None:
    registry.create_registered_model("M")
    created = registry.create_model_version("M", logged, description="first", tags={"n": 1})
    assert (created.description, created.tags) == ("first", {"n": "1"})
    again = registry.get_model_version("M", 1)
    assert (again.description, again.tags) == ("first", {"n": "1"})


def test_metadata_edits_change_only_what_they_name(registry: Registry, logged: str) -> None:
    registry.create_registered_model("M", tags={"a": "1"})
    assert registry.set_registered_model_tag("M", "b", 2).tags == {"a": "1", "b": "2"}
    assert registry.delete_registered_model_tag("M", "a").tags == {"b": "2"}
    registry.create_model_version("M", logged, description="first", tags={"a": "1"})
    assert registry.set_model_version_tag("M", 1, "b", 2).tags == {"a": "1", "b": "2"}
    assert registry.get_model_version("M", 1).description == "first"
    described = registry.update_model_version("M", 1, "second")
    assert (described.description, described.tags) == ("second", {"a": "1", "b": "2"})
    assert registry.delete_model_version_tag("M", 1, "missing").tags == {"a": "1", "b": "2"}
    assert registry.delete_model_version_tag("M", 1, "a").tags == {"b": "2"}
    assert registry.get_model_version("M", 1).description == "second"


def test_a_version_copied_from_a_path(registry: Registry, model_dir: Path) -> None:
    registry.create_registered_model("M")
    version = registry.create_model_version("M", model_dir)
    assert (version.name, version.version) == ("M", 1)
    assert version.run_id is None
    assert version.source == str(model_dir)
    assert version.storage_location == "models/M/artifacts/1"


def test_version_numbers_are_counted_per_model(registry: Registry, logged: str) -> None:
    registry.create_registered_model("A")
    registry.create_registered_model("B")
    assert registry.create_model_version("A", logged).version == 1
    assert registry.create_model_version("B", logged).version == 1
    assert registry.create_model_version("A", logged).version == 2


class _RivalFirst(LocalArtifactStore):
    """A store where another writer registers a version just before this one's first claim.

    Two real registries on one root, interleaved at the one point where a race is lost: after
    this writer listed the claims and before its create-if-absent. Every claim tried is kept.
    """

    def __init__(self, root: Path, rival: Registry, source: str) -> None:
        super().__init__(root)
        self.rival, self.source = rival, source
        self.tried: list[str] = []

    def create_if_absent(self, key: str, data: bytes = b"") -> bool:
        if key.endswith(".claim") and not self.tried:
            self.rival.create_model_version("M", self.source)
        self.tried.append(key.rsplit("/", 1)[1])
        return super().create_if_absent(key, data)


def test_a_writer_that_loses_a_claim_takes_the_next_free_number(
    registry: Registry, logged: str, root: Path
) -> None:
    registry.create_registered_model("M")
    registry.create_model_version("M", logged)
    store = _RivalFirst(root, registry, logged)
    mine = Registry(store).create_model_version("M", logged)
    assert store.tried == ["2.claim", "3.claim"]  # the lost number, then straight to the next
    assert mine.version == 3
    assert registry.version_numbers("M") == [1, 2, 3]


def test_the_files_are_where_the_module_docstring_says(
    registry: Registry, model_dir: Path, root: Path
) -> None:
    """The on-disk layout is what another mlserve (older, newer, another process) reads."""
    registry.create_registered_model("M", description="d")
    registry.create_model_version("M", model_dir)
    registry.set_alias("M", "champion", 1)
    model = root / "models" / "M"
    assert os.listdir(root / "models") == ["M"]
    assert sorted(os.listdir(model)) == [
        "aliases",
        "artifacts",
        "registered_model.yaml",
        "versions",
    ]
    assert sorted(os.listdir(model / "versions")) == ["1.claim", "1.meta.yaml", "1.yaml"]
    # the claim names its writer, for whoever finds one that was never published
    assert (model / "versions" / "1.claim").read_text() == f"pid {os.getpid()}\n"
    assert os.listdir(model / "artifacts") == ["1"]
    assert (model / "artifacts" / "1" / "data.txt").read_text() == "x"
    record = _yaml(model / "registered_model.yaml")
    assert isinstance(record, dict)
    assert (record["name"], record["description"]) == ("M", "d")
    pointer = _yaml(model / "versions" / "1.yaml")
    assert isinstance(pointer, dict)
    assert {k: pointer[k] for k in ("name", "version", "source", "storage_location")} == {
        "name": "M",
        "version": 1,
        "source": str(model_dir),
        "storage_location": "models/M/artifacts/1",
    }
    meta = _yaml(model / "versions" / "1.meta.yaml")
    assert isinstance(meta, dict)
    assert meta["last_updated_timestamp"] == pointer["creation_timestamp"]
    assert _yaml(model / "aliases" / "champion.yaml") == {"alias": "champion", "version": 1}


def test_deleting_a_version_removes_its_files_and_keeps_its_claim(
    two_copies: Registry, root: Path
) -> None:
    two_copies.delete_model_version("M", 2)
    model = root / "models" / "M"
    assert sorted(os.listdir(model / "versions")) == ["1.claim", "1.meta.yaml", "1.yaml", "2.claim"]
    assert os.listdir(model / "artifacts") == ["1"]


def test_a_version_without_its_metadata_file_reads_as_created(
    registry: Registry, logged: str, root: Path
) -> None:
    """A store whose ``<N>.meta.yaml`` is gone (written by hand, or by an older mlserve)."""
    registry.create_registered_model("M")
    created = registry.create_model_version("M", logged, description="d", tags={"k": "v"})
    (root / "models" / "M" / "versions" / "1.meta.yaml").unlink()
    version = registry.get_model_version("M", 1)
    assert version.last_updated_timestamp == created.creation_timestamp
    assert (version.description, version.tags) == ("", {})


def test_registering_a_copied_version_copies_it_again(two_copies: Registry, root: Path) -> None:
    two_copies.create_registered_model("B")
    copy = two_copies.create_model_version("B", "models:/M/2")
    assert copy.storage_location == "models/B/artifacts/1"
    two_copies.delete_registered_model("M")
    assert (two_copies.resolve(RegistryURI("B", version=1)) / "data.txt").read_text() == "two"


def test_a_failed_copy_burns_no_number_and_leaves_nothing_behind(
    registry: Registry, make_model: Callable[..., Path], tmp_path: Path, root: Path
) -> None:
    source = make_model(tmp_path / "src")
    (source / "broken").symlink_to(source / "missing")  # copytree cannot follow a dangling link
    registry.create_registered_model("M")
    with pytest.raises(StoreError, match=r"copying it into the registry failed: .*broken") as info:
        registry.create_model_version("M", source)
    assert info.value.store == str(source) and isinstance(info.value.__cause__, OSError)
    assert list((root / "models").rglob(".*")) == []  # no staging directory left
    (source / "broken").unlink()
    assert registry.create_model_version("M", source).version == 1


def test_list_model_versions(two_copies: Registry) -> None:
    assert [v.version for v in two_copies.list_model_versions("M")] == [1, 2]
    assert [v.name for v in two_copies.list_model_versions("M")] == ["M", "M"]
    with pytest.raises(RegisteredModelNotFound):
        two_copies.list_model_versions("N")


def test_resolve_picks_the_version_by_number_latest_and_alias(two_copies: Registry) -> None:
    two_copies.set_alias("M", "champion", 1)

    def data(uri: RegistryURI) -> str:
        return (two_copies.resolve(uri) / "data.txt").read_text()

    assert data(RegistryURI("M", version=1)) == "one"
    assert data(RegistryURI("M", version=2)) == "two"
    assert data(RegistryURI("M")) == "two"
    assert data(RegistryURI("M", alias="champion")) == "one"


def test_resolve_refuses_stages(two_copies: Registry) -> None:
    with pytest.raises(InvalidURI) as info:
        two_copies.resolve(RegistryURI("M", stage="Production"))
    assert info.value.uri == "models:/M/Production"
    assert info.value.reason == "mlserve's registry has no stages: use an alias"


def test_resolve_of_a_missing_model_names_it(registry: Registry) -> None:
    with pytest.raises(RegisteredModelNotFound) as info:
        registry.resolve(RegistryURI("M"))
    assert info.value.name == "M"


def test_resolve_reports_a_model_that_disappeared(
    registry: Registry, logged: str, root: Path
) -> None:
    registry.create_registered_model("M")
    version = registry.create_model_version("M", logged)
    (root / version.storage_location / "MLmodel").unlink()
    with pytest.raises(ArtifactNotFound) as info:
        registry.resolve(RegistryURI("M", version=1))
    assert info.value.path == f"models:/M/1 -> {logged}"


# -- the data not-found errors carry (the server and CLI build their answers from it) ----------


def test_where_names_the_store(registry: Registry, root: Path) -> None:
    assert registry.where == f"mlserve's store {registry.store.uri}"
    assert root.name in registry.where


def test_missing_model_error(registry: Registry) -> None:
    registry.create_registered_model("A")
    with pytest.raises(RegisteredModelNotFound) as info:
        registry.get_registered_model("M")
    assert (info.value.name, info.value.existing, info.value.store) == ("M", ["A"], registry.where)


@pytest.mark.parametrize("version", [9, "abc"], ids=["absent", "not-a-number"])
def test_missing_version_error(two_copies: Registry, version: int | str) -> None:
    with pytest.raises(ModelVersionNotFound) as info:
        two_copies.get_model_version("M", version)
    error = info.value
    assert (error.name, error.version, error.versions) == ("M", version, [1, 2])
    assert error.store == two_copies.where


def test_latest_of_an_empty_model_error(registry: Registry) -> None:
    registry.create_registered_model("M")
    with pytest.raises(ModelVersionNotFound) as info:
        registry.get_latest_version("M")
    error = info.value
    assert (error.name, error.version, error.versions) == ("M", "latest", [])
    assert error.store == registry.where


def test_missing_alias_error(two_copies: Registry) -> None:
    two_copies.set_alias("M", "champion", 1)
    for call in (two_copies.get_model_version_by_alias, two_copies.delete_alias):
        with pytest.raises(AliasNotFound) as info:
            call("M", "challenger")
        error = info.value
        assert (error.name, error.alias, error.aliases) == ("M", "challenger", ["champion"])
        assert error.store == two_copies.where


def test_deleting_an_alias_of_a_missing_model_names_the_model(registry: Registry) -> None:
    with pytest.raises(RegisteredModelNotFound) as info:
        registry.delete_alias("M", "champion")
    assert info.value.name == "M"


def test_creating_a_taken_name_error(registry: Registry) -> None:
    registry.create_registered_model("M")
    with pytest.raises(ResourceAlreadyExists) as info:
        registry.create_registered_model("M")
    assert (info.value.kind, info.value.name) == ("Registered model", "M")


def test_a_directory_in_the_models_place_is_never_overwritten(
    registry: Registry, root: Path
) -> None:
    """Files at ``models/<name>/`` without a record (put there by hand or by another tool)."""
    place = root / "models" / "M"
    place.mkdir(parents=True)
    (place / "notes.txt").write_text("keep me")
    with pytest.raises(ResourceAlreadyExists) as info:
        registry.create_registered_model("M")
    assert (info.value.kind, info.value.name) == ("Registered model", "M")
    assert (place / "notes.txt").read_text() == "keep me"


# -- what counts as an alias -----------------------------------------------------------------


def test_only_yaml_files_are_aliases(two_copies: Registry, root: Path) -> None:
    aliases = root / "models" / "M" / "aliases"
    two_copies.set_alias("M", "champion", 1)
    # an editor's or an admin's backup copy next to the alias is not a second alias
    shutil.copy(aliases / "champion.yaml", aliases / "champion.yaml.bak")
    assert two_copies.aliases("M") == {"champion": 1}


def test_a_stray_text_file_among_the_aliases_is_ignored(two_copies: Registry, root: Path) -> None:
    two_copies.set_alias("M", "champion", 1)
    (root / "models" / "M" / "aliases" / "README.txt").write_text("aliases live here\n")
    assert two_copies.aliases("M") == {"champion": 1}

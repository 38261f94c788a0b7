"""The registry on disk: models, versions, aliases, metadata, and what happens at the edges."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlserve._uri import RegistryURI
from mlserve.errors import (
    AliasNotFound,
    ArtifactNotFound,
    InvalidName,
    InvalidParameterValue,
    ModelVersionNotFound,
    RegisteredModelNotFound,
    ResourceAlreadyExists,
)
from mlserve.store._registry import Registry


def test_create_get_list_delete(registry: Registry) -> None:
    created = registry.create_registered_model("M", description="d", tags={"k": 1})
    assert created.name == "M"
    assert created.description == "d"
    assert created.tags == {"k": "1"}
    assert created.latest_version is None
    assert created.aliases == {}
    registry.create_registered_model("A")
    assert [m.name for m in registry.search_registered_models()] == ["A", "M"]
    registry.delete_registered_model("M")
    assert registry.names() == ["A"]
    with pytest.raises(RegisteredModelNotFound, match="Registered models: A"):
        registry.get_registered_model("M")


def test_create_twice_is_already_exists(registry: Registry) -> None:
    registry.create_registered_model("M")
    with pytest.raises(ResourceAlreadyExists):
        registry.create_registered_model("M")


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'fraud'", ["fraud"]),
        ("name != 'fraud'", ["Fraud-v2", "churn", "fraud_eu"]),
        ("name LIKE 'fraud%'", ["fraud", "fraud_eu"]),
        ("name ILIKE 'fraud%'", ["Fraud-v2", "fraud", "fraud_eu"]),
        ("name LIKE 'fraud_eu'", ["fraud_eu"]),
        ("name LIKE '%u%'", ["Fraud-v2", "churn", "fraud", "fraud_eu"]),
        ("", ["Fraud-v2", "churn", "fraud", "fraud_eu"]),
    ],
    ids=["eq", "ne", "like", "ilike", "underscore", "contains", "empty"],
)
def test_search_filters(registry: Registry, filter_string: str, expected: list[str]) -> None:
    for name in ["fraud", "fraud_eu", "Fraud-v2", "churn"]:
        registry.create_registered_model(name)
    found = [m.name for m in registry.search_registered_models(filter_string)]
    assert found == sorted(expected)


def test_search_rejects_other_filters(registry: Registry) -> None:
    with pytest.raises(InvalidParameterValue, match="LIKE"):
        registry.search_registered_models("tags.x = 'y'")


def test_versions_count_up_and_latest_is_highest(registry: Registry, logged: str) -> None:
    registry.create_registered_model("M")
    versions = [registry.create_model_version("M", logged).version for _ in range(3)]
    assert versions == [1, 2, 3]
    assert registry.get_latest_version("M").version == 3
    assert registry.get_registered_model("M").latest_version == 3
    v1 = registry.get_model_version("M", "1")
    assert v1.source == logged
    assert v1.run_id == logged.split("/")[1]
    assert v1.storage_location.startswith("runs/")


def test_version_of_missing_model(registry: Registry, logged: str) -> None:
    with pytest.raises(RegisteredModelNotFound):
        registry.create_model_version("M", logged)
    with pytest.raises(RegisteredModelNotFound):
        registry.get_model_version("M", 1)


@pytest.mark.parametrize(
    "version", [9, "9", "0", "abc", -1], ids=["int", "str", "zero", "word", "neg"]
)
def test_missing_version_lists_existing(registry: Registry, logged: str, version: object) -> None:
    registry.create_registered_model("M")
    registry.create_model_version("M", logged)
    registry.create_model_version("M", logged)
    with pytest.raises(ModelVersionNotFound, match=r"Versions: 1, 2\.") as info:
        registry.get_model_version("M", version)  # type: ignore[arg-type]
    assert info.value.versions == [1, 2]


def test_latest_of_empty_model(registry: Registry) -> None:
    registry.create_registered_model("M")
    with pytest.raises(ModelVersionNotFound, match="latest"):
        registry.get_latest_version("M")


def test_source_must_hold_a_model(registry: Registry, tmp_path: Path, logged: str) -> None:
    registry.create_registered_model("M")
    with pytest.raises(ArtifactNotFound):
        registry.create_model_version("M", tmp_path / "empty")
    with pytest.raises(ArtifactNotFound):
        registry.create_model_version("M", logged.replace("/model", "/nothing"))
    # failed registrations burn no version number
    assert registry.create_model_version("M", logged).version == 1


def test_plain_path_sources_are_copied(registry: Registry, model_dir: Path, root: Path) -> None:
    registry.create_registered_model("M")
    version = registry.create_model_version("M", model_dir)
    (model_dir / "data.txt").write_text("changed later")
    path = registry.resolve(RegistryURI("M", version=1))
    assert path.is_relative_to(root)
    assert (path / "data.txt").read_text() == "x"
    assert version.source == str(model_dir)


def test_register_from_another_registered_version(registry: Registry, logged: str) -> None:
    registry.create_registered_model("A")
    registry.create_registered_model("B")
    registry.create_model_version("A", logged)
    copy = registry.create_model_version("B", "models:/A/1")
    assert copy.storage_location == registry.get_model_version("A", 1).storage_location
    assert copy.run_id == logged.split("/")[1]


def test_aliases(registry: Registry, logged: str) -> None:
    registry.create_registered_model("M")
    registry.create_model_version("M", logged)
    registry.create_model_version("M", logged)
    registry.set_alias("M", "champion", 1)
    registry.set_alias("M", "challenger", "2")
    assert registry.get_model_version_by_alias("M", "champion").version == 1
    assert registry.get_model_version("M", 1).aliases == ("champion",)
    assert registry.get_registered_model("M").aliases == {"champion": 1, "challenger": 2}
    registry.set_alias("M", "champion", 2)  # moving an alias
    assert registry.get_model_version_by_alias("M", "champion").version == 2
    assert registry.get_model_version("M", 1).aliases == ()
    registry.delete_alias("M", "challenger")
    with pytest.raises(AliasNotFound, match="Aliases: champion") as info:
        registry.get_model_version_by_alias("M", "challenger")
    assert info.value.aliases == ["champion"]
    with pytest.raises(AliasNotFound):
        registry.delete_alias("M", "challenger")


def test_alias_to_missing_version(registry: Registry, logged: str) -> None:
    registry.create_registered_model("M")
    with pytest.raises(ModelVersionNotFound):
        registry.set_alias("M", "champion", 1)
    with pytest.raises(InvalidName):
        registry.set_alias("M", "latest", 1)


def test_delete_version_drops_its_aliases_and_never_reuses_the_number(
    registry: Registry, logged: str
) -> None:
    registry.create_registered_model("M")
    registry.create_model_version("M", logged)
    registry.create_model_version("M", logged)
    registry.set_alias("M", "champion", 2)
    registry.delete_model_version("M", 2)
    assert registry.version_numbers("M") == [1]
    assert registry.aliases("M") == {}
    assert registry.create_model_version("M", logged).version == 3


def test_descriptions_and_tags(registry: Registry, logged: str) -> None:
    registry.create_registered_model("M")
    registry.create_model_version("M", logged)
    assert registry.update_registered_model("M", "fraud model").description == "fraud model"
    registry.set_registered_model_tag("M", "team", "risk")
    assert registry.delete_registered_model_tag("M", "nope").tags == {"team": "risk"}
    assert registry.delete_registered_model_tag("M", "team").tags == {}
    version = registry.update_model_version("M", 1, "first")
    assert version.description == "first"
    registry.set_model_version_tag("M", 1, "validated", True)
    assert registry.get_model_version("M", 1).tags == {"validated": "True"}
    assert registry.delete_model_version_tag("M", 1, "validated").tags == {}
    # metadata edits never touch what the version points at
    assert registry.get_model_version("M", 1).source == logged


def test_unpublished_claim_is_invisible_and_skipped(
    registry: Registry, logged: str, root: Path
) -> None:
    """A writer that died after claiming version 2 but before publishing it."""
    registry.create_registered_model("M")
    registry.create_model_version("M", logged)
    (root / "models" / "M" / "versions" / "2.claim").write_text("pid 1\n")
    (root / "models" / "M" / ".tmp-artifacts-dead").mkdir()
    assert registry.version_numbers("M") == [1]
    assert registry.get_latest_version("M").version == 1
    with pytest.raises(ModelVersionNotFound):
        registry.get_model_version("M", 2)
    assert registry.create_model_version("M", logged).version == 3
    assert registry.version_numbers("M") == [1, 3]


@pytest.mark.parametrize(
    "name",
    ["../escape", "..", "a/b", "/abs", "a\\b", "nul\x00", ".hidden", ""],
    ids=["parent", "dotdot", "slash", "absolute", "backslash", "nul", "hidden", "empty"],
)
def test_bad_names_write_nothing_outside_the_root(
    registry: Registry, logged: str, tmp_path: Path, name: str
) -> None:
    before = sorted(p for p in tmp_path.rglob("*") if "mlruns" not in p.parts)
    with pytest.raises(InvalidName):
        registry.create_registered_model(name)
    with pytest.raises(InvalidName):
        registry.create_model_version(name, logged)
    with pytest.raises(InvalidName):
        registry.get_registered_model(name)
    after = sorted(p for p in tmp_path.rglob("*") if "mlruns" not in p.parts)
    assert after == before
    assert (
        not (tmp_path / "mlruns" / "models").exists()
        or os.listdir(tmp_path / "mlruns" / "models") == []
    )

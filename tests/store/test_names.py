"""Name rules: whatever becomes a path component cannot leave its directory."""

from __future__ import annotations

import pytest

from mlserve.errors import InvalidName
from mlserve.store._names import (
    validate_alias,
    validate_artifact_path,
    validate_model_name,
    validate_run_id,
)

BAD_COMPONENTS = [
    ("", "empty"),
    ("..", "dotdot"),
    (".", "dot"),
    (".hidden", "leading-dot"),
    ("a/b", "slash"),
    ("../escape", "parent-escape"),
    ("a\\b", "backslash"),
    ("a\x00b", "nul"),
    ("a\nb", "newline"),
    (" padded ", "whitespace"),
    ("C:evil", "colon"),
    ("x" * 256, "too-long"),
]


@pytest.mark.parametrize("name", [b[0] for b in BAD_COMPONENTS], ids=[b[1] for b in BAD_COMPONENTS])
def test_bad_model_names_are_rejected(name: str) -> None:
    with pytest.raises(InvalidName) as info:
        validate_model_name(name)
    assert info.value.kind == "registered model"
    assert "\x00" not in str(info.value)


@pytest.mark.parametrize(
    "name", ["MyRandomForest", "my model", "fraud-v2", "a.b", "x" * 255, "ünïcode", "a@b"]
)
def test_good_model_names_pass(name: str) -> None:
    assert validate_model_name(name) == name


@pytest.mark.parametrize(
    "alias",
    ["", "latest", "LATEST", "v1", "V12", "has space", "a/b", "..", "a.b", "x" * 256],
    ids=["empty", "latest", "LATEST", "v1", "V12", "space", "slash", "dotdot", "dot", "long"],
)
def test_bad_aliases_are_rejected(alias: str) -> None:
    with pytest.raises(InvalidName):
        validate_alias(alias)


@pytest.mark.parametrize("alias", ["champion", "challenger_2", "prod-eu", "v1x", "version"])
def test_good_aliases_pass(alias: str) -> None:
    assert validate_alias(alias) == alias


@pytest.mark.parametrize(
    "run_id", ["", "../x", "a b", "x" * 65, "a.b"], ids=["empty", "escape", "space", "long", "dot"]
)
def test_bad_run_ids_are_rejected(run_id: str) -> None:
    with pytest.raises(InvalidName):
        validate_run_id(run_id)


@pytest.mark.parametrize(
    ("path", "expected"),
    [("model", "model"), ("sub/model", "sub/model"), ("model/", "model")],
    ids=["plain", "nested", "trailing-slash"],
)
def test_artifact_paths_normalise(path: str, expected: str) -> None:
    assert validate_artifact_path(path) == expected


@pytest.mark.parametrize(
    "path",
    ["", "/abs", "a/../b", "..", "a//b", "a\\b", ".hidden/x", "a/\x00"],
    ids=[
        "empty",
        "absolute",
        "dotdot-inside",
        "dotdot",
        "empty-part",
        "backslash",
        "hidden",
        "nul",
    ],
)
def test_bad_artifact_paths_are_rejected(path: str) -> None:
    with pytest.raises(InvalidName):
        validate_artifact_path(path)


def test_non_strings_are_rejected() -> None:
    with pytest.raises(InvalidName):
        validate_model_name(3)
    with pytest.raises(InvalidName):
        validate_artifact_path(None)

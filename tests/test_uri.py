"""Model URI grammar: every accepted form and the malformed ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlserve._uri import STAGES, LocalURI, LoggedModelURI, RegistryURI, RunsURI, parse_model_uri
from mlserve.errors import InvalidURI

VALID = [
    ("/abs/model", LocalURI(Path("/abs/model"))),
    ("rel/model", LocalURI(Path("rel/model"))),
    ("file:///abs/model", LocalURI(Path("/abs/model"))),
    ("file://localhost/abs/model", LocalURI(Path("/abs/model"))),
    ("file:///with%20space", LocalURI(Path("/with space"))),
    ("runs:/abc123/model", RunsURI("abc123", "model")),
    ("runs:///abc123/model", RunsURI("abc123", "model")),
    ("runs:/abc123/sub/model/", RunsURI("abc123", "sub/model")),
    ("models:/MyModel/3", RegistryURI("MyModel", version=3)),
    ("models:/MyModel/latest", RegistryURI("MyModel")),
    ("models:/MyModel/Latest", RegistryURI("MyModel")),
    ("models:/MyModel@champion", RegistryURI("MyModel", alias="champion")),
    ("models:/My Model@champion", RegistryURI("My Model", alias="champion")),
    ("models:/a@b@champion", RegistryURI("a@b", alias="champion")),
    # MLflow's stages, matched case-insensitively and kept in MLflow's spelling
    ("models:/MyModel/Production", RegistryURI("MyModel", stage="Production")),
    ("models:/MyModel/staging", RegistryURI("MyModel", stage="Staging")),
    ("models:/MyModel/ARCHIVED", RegistryURI("MyModel", stage="Archived")),
    ("models:/MyModel/None", RegistryURI("MyModel", stage="None")),
    # MLflow 3 logged models: one part and no alias is a model id, as in MLflow's parser
    ("models:/m-0123abcd", LoggedModelURI("m-0123abcd")),
    ("models:///m-0123abcd/", LoggedModelURI("m-0123abcd")),
]


@pytest.mark.parametrize(("uri", "expected"), VALID, ids=[v[0] for v in VALID])
def test_valid_uris_parse(uri: str, expected: object) -> None:
    assert parse_model_uri(uri) == expected


def test_path_objects_are_local() -> None:
    assert parse_model_uri(Path("x/y")) == LocalURI(Path("x/y"))


@pytest.mark.parametrize(
    "uri",
    [
        "models:/MyModel/3",
        "models:/MyModel/latest",
        "models:/MyModel@champion",
        "runs:/abc/m",
        "models:/MyModel/Staging",
        "models:/m-abc",
    ],
    ids=["version", "latest", "alias", "runs", "stage", "logged-model"],
)
def test_str_round_trips(uri: str) -> None:
    assert str(parse_model_uri(uri)) == uri


INVALID = [
    ("", "empty"),
    ("   ", "blank"),
    ("s3://bucket/model", "s3"),
    ("http://host/model", "http"),
    ("file://otherhost/model", "remote-file-host"),
    ("runs:/", "runs-empty"),
    ("runs:/abc", "runs-no-path"),
    ("models:/", "models-empty"),
    ("models://", "models-slashes-only"),
    ("models:/MyModel/0", "version-zero"),
    ("models:/MyModel/-1", "version-negative"),
    ("models:/MyModel/Productoin", "unknown-stage"),
    ("models:/MyModel/ ", "blank-suffix"),
    ("models:/MyModel/1/extra", "extra-part"),
    ("models:/@alias", "alias-no-name"),
    ("models:/name@", "alias-empty"),
    ("/x\x00y", "nul"),
]


@pytest.mark.parametrize("uri", [i[0] for i in INVALID], ids=[i[1] for i in INVALID])
def test_invalid_uris_raise(uri: str) -> None:
    with pytest.raises(InvalidURI) as info:
        parse_model_uri(uri)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "\x00" not in str(info.value)


def test_unknown_stage_lists_the_stages() -> None:
    with pytest.raises(InvalidURI) as info:
        parse_model_uri("models:/MyModel/Prod")
    assert all(stage in str(info.value) for stage in STAGES)


def test_only_a_registry_uri_with_nothing_else_is_latest() -> None:
    assert RegistryURI("m").is_latest
    assert not RegistryURI("m", stage="Production").is_latest
    assert not RegistryURI("m", version=1).is_latest
    assert not RegistryURI("m", alias="a").is_latest


@pytest.mark.parametrize(
    "uri", ["sqlite:///mlflow.db", "http://127.0.0.1:5000", "postgresql://h/db", "sqlite+x:///a"]
)
def test_a_tracking_uri_given_as_a_model_uri_is_called_a_tracking_uri(uri: str) -> None:
    with pytest.raises(InvalidURI, match=r"this is a tracking URI.*--tracking-uri"):
        parse_model_uri(uri)


def test_non_string_is_invalid() -> None:
    with pytest.raises(InvalidURI):
        parse_model_uri(42)  # type: ignore[arg-type]

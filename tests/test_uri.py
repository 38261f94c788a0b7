"""Model URI grammar: every accepted form and the malformed ones."""

from __future__ import annotations

import os
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
    # only slashes are stripped around the parts, never a name's own first or last letters
    ("runs:/abc123/XGBoost", RunsURI("abc123", "XGBoost")),
    ("models:/MyModel/3", RegistryURI("MyModel", version=3)),
    ("models:/MyModel/1", RegistryURI("MyModel", version=1)),
    ("models:/XGBoost/2", RegistryURI("XGBoost", version=2)),
    ("models:/MyModel/latest", RegistryURI("MyModel")),
    ("models:/MyModel/Latest", RegistryURI("MyModel")),
    ("models:/MyModel@champion", RegistryURI("MyModel", alias="champion")),
    ("models:/MyModel@ONNX", RegistryURI("MyModel", alias="ONNX")),
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


# what a message for something that is no model URI at all lists, in the user's words
FORMS = (
    "a local path",
    "file:///path",
    "runs:/<run_id>/<path>",
    "models:/<name>/<version>",
    "models:/<name>/latest",
    "models:/<name>@<alias>",
    "models:/<name>/<stage>",
    "models:/<model_id>",
)


@pytest.mark.parametrize(
    ("uri", "prefix"),
    [
        ("", ""),
        ("   ", ""),
        ("models:/", ""),
        ("models://", ""),
        ("s3://bucket/model", "unsupported scheme 's3'; "),
        ("FTP://host/model", "unsupported scheme 'ftp'; "),
    ],
    ids=["empty", "blank", "models-empty", "models-slashes-only", "s3", "ftp-upper-case"],
)
def test_no_model_uri_at_all_lists_the_accepted_forms(uri: str, prefix: str) -> None:
    with pytest.raises(InvalidURI) as info:
        parse_model_uri(uri)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.uri == uri
    assert info.value.reason.startswith(prefix)
    assert all(form in info.value.reason for form in FORMS), info.value.reason
    assert str(info.value) == f"Invalid model URI {uri!r}: {info.value.reason}"


def _not_a_suffix(suffix: str) -> str:
    return (
        f"{suffix!r} is neither a version number, 'latest', nor a model stage "
        "(None, Staging, Production, Archived)"
    )


_SHAPE = "expected models:/<name>/<version>, /latest or @<alias>"
# (uri, id, the reason the error gives): each malformed form says what is wrong with it
INVALID = [
    (
        "file://otherhost/model",
        "remote-file-host",
        "file URIs must name a local path, not host 'otherhost'",
    ),
    ("file:///model?x=1", "file-query", "file URIs take no query or fragment"),
    ("file:///model#top", "file-fragment", "file URIs take no query or fragment"),
    ("file://", "file-no-path", "the file URI has no path"),
    ("file://localhost", "file-localhost-no-path", "the file URI has no path"),
    ("runs:/", "runs-empty", "expected runs:/<run_id>/<artifact path>"),
    ("runs:/abc", "runs-no-path", "expected runs:/<run_id>/<artifact path>"),
    ("runs:/abc//", "runs-slashes-path", "expected runs:/<run_id>/<artifact path>"),
    ("models:/MyModel/0", "version-zero", "version '0' is not a positive integer"),
    ("models:/MyModel/00", "version-zeros", "version '00' is not a positive integer"),
    ("models:/MyModel/-1", "version-negative", _not_a_suffix("-1")),
    ("models:/MyModel/Productoin", "unknown-stage", _not_a_suffix("Productoin")),
    ("models:/MyModel/ ", "blank-suffix", _not_a_suffix(" ")),
    ("models:/MyModel/1/extra", "extra-part", _SHAPE),
    # a name never holds a slash: the first slash ends it, whatever the last part is
    ("models:/team/fraud/1", "slash-in-name", _SHAPE),
    ("models:/MyModel//1", "double-slash", _SHAPE),
    ("models:/@alias", "alias-no-name", "expected models:/<name>@<alias>"),
    ("models:/name@", "alias-empty", "expected models:/<name>@<alias>"),
    # the NUL is shown escaped, so the message can be printed and logged
    ("/x\x00y", "nul", "it contains a NUL character"),
]


@pytest.mark.parametrize(
    ("uri", "reason"), [(i[0], i[2]) for i in INVALID], ids=[i[1] for i in INVALID]
)
def test_invalid_uris_raise(uri: str, reason: str) -> None:
    with pytest.raises(InvalidURI) as info:
        parse_model_uri(uri)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.uri == uri.replace("\x00", "\\x00")
    assert info.value.reason == reason
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
    with pytest.raises(InvalidURI, match=r"this is a tracking URI.*--tracking-uri") as info:
        parse_model_uri(uri)
    assert info.value.uri == uri
    # where each of the two belongs: the store to --tracking-uri or its variable, the model to -m
    reason = info.value.reason
    assert reason.startswith("this is a tracking URI (where models are stored), not a model URI")
    assert "--tracking-uri (or MLFLOW_TRACKING_URI)" in reason
    assert reason.endswith("and the model as models:/<name>/<version>")


@pytest.mark.parametrize(
    ("value", "shown", "kind"),
    [(42, "42", "int"), (None, "None", "NoneType"), (b"/m", "b'/m'", "bytes")],
    ids=["int", "none", "bytes"],
)
def test_non_string_is_invalid(value: object, shown: str, kind: str) -> None:
    with pytest.raises(InvalidURI) as info:
        parse_model_uri(value)  # type: ignore[arg-type]
    assert info.value.uri == shown
    assert info.value.reason == f"expected a string or path, got {kind}"


def test_a_local_uri_prints_as_its_path() -> None:
    assert str(parse_model_uri("rel/model")) == str(Path("rel/model"))
    assert str(parse_model_uri("file:///abs/model")) == str(Path("/abs/model"))


@pytest.mark.skipif(os.name == "nt", reason="POSIX paths")
def test_a_drive_letter_in_a_file_uri_is_a_directory_on_posix() -> None:
    # only Windows reads file:///C:/m as the drive C:; on POSIX /C:/m is an ordinary path
    assert parse_model_uri("file:///C:/models") == LocalURI(Path("/C:/models"))


# MLflow 3.17.2's parsers (urlparse, then a path that must start with "/"), checked in its venv:
# "models:M/1" and "runs:abc/model" are "Not a proper ... URI"; "models://M/1" is read as the
# logged model "1" and "runs://abc/model" as run "model": the host is dropped without a word.
@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("models:M/1", "expected models:/...: the path after 'models:' starts with /"),
        ("runs:abc/model", "expected runs:/...: the path after 'runs:' starts with /"),
        (
            "models://M/1",
            "models://M/... names a host, which MLflow ignores (it reads the rest as the path); "
            "write models:/M/...",
        ),
        (
            "runs://abc/model",
            "runs://abc/... names a host, which MLflow ignores (it reads the rest as the path); "
            "write runs:/abc/...",
        ),
    ],
    ids=["models-no-slash", "runs-no-slash", "models-host", "runs-host"],
)
def test_forms_mlflow_refuses_or_misreads_are_refused(uri: str, reason: str) -> None:
    with pytest.raises(InvalidURI) as info:
        parse_model_uri(uri)
    assert (info.value.uri, info.value.reason) == (uri, reason)


@pytest.mark.parametrize(
    ("uri", "parsed"),
    [
        ("models:///M/1", RegistryURI("M", version=1)),
        ("models:////M/1", RegistryURI("M", version=1)),
        ("runs:///abc/model", RunsURI("abc", "model")),
    ],
)
def test_an_empty_host_is_no_host(uri: str, parsed: object) -> None:
    assert parse_model_uri(uri) == parsed

"""Finding a builder and what a failed build leaves: a missing builder is named with what to
install, a bad image name is refused before anything else, a failed build tags nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from mlserve.cli import main
from mlserve.deploy import (
    BuilderNotFound,
    ImageBuildFailed,
    InvalidImageName,
    build_image,
    find_builder,
)
from mlserve.errors import InvalidParameterValue

from .conftest import buildah, container_ids, image_names, require_buildah


def _path_with(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **scripts: str) -> None:
    """PATH holding only these executables (name -> shell script body)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in scripts.items():
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))


def test_no_builder_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _path_with(monkeypatch, tmp_path)
    with pytest.raises(BuilderNotFound) as caught:
        find_builder()
    message = str(caught.value)
    for hint in ("docker: not on PATH", "apt-get install podman", "apt-get install buildah"):
        assert hint in message


def test_a_docker_without_daemon_is_not_a_builder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the docker CLI installed alone: `docker version` fails to reach the daemon
    _path_with(
        monkeypatch,
        tmp_path,
        docker='echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2\n'
        "exit 1",
    )
    with pytest.raises(BuilderNotFound, match=r"daemon does not answer.*Cannot connect"):
        find_builder()
    with pytest.raises(BuilderNotFound, match="daemon does not answer"):
        find_builder("docker")


def test_an_unknown_builder_is_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="docker, podman, buildah"):
        find_builder("kaniko")


def test_a_bad_image_name_fails_before_anything_else(tmp_path: Path) -> None:
    # the model does not exist either: the name is checked first, before any work
    with pytest.raises(InvalidImageName, match="lowercase"):
        build_image(tmp_path / "no-model", "Seed-RF")


def test_build_docker_cli_refuses_a_bad_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _path_with(monkeypatch, tmp_path)  # no builder either: the name is reported first
    assert main(["build-docker", "-m", str(tmp_path), "-n", "bad name"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlserve: error: ") and "not a valid image name" in err
    assert main(["build-docker", "-m", str(tmp_path), "-n", "good"]) == 1
    assert "no image builder found" in capsys.readouterr().err


def test_a_failed_build_tags_nothing(saved_seed: Path, tmp_path: Path) -> None:
    """A base image without Python: the RUN step fails, no image gets the name, and the
    build's containers are gone."""
    require_buildah()
    empty = f"localhost/mlserve-test-empty:{uuid.uuid4().hex[:12]}"
    container = buildah("from", "scratch").stdout.strip()
    try:
        buildah("commit", "--quiet", container, empty)
    finally:
        buildah("rm", container)
    name = f"localhost/mlserve-test-failed:{uuid.uuid4().hex[:12]}"
    before = container_ids()
    try:
        with pytest.raises(ImageBuildFailed) as caught:
            build_image(
                saved_seed,
                name,
                builder=find_builder("buildah"),
                base_image=empty,
            )
        assert "nothing was tagged" in str(caught.value)
        assert "python3" in caught.value.output  # the builder's own account of the failure
        assert name not in image_names()
        assert container_ids() == before
    finally:
        buildah("rmi", "--force", empty, check=False)

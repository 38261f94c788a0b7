"""Image references: what docker, podman and buildah accept is accepted, the rest refused
with the reason, before anything is built."""

from __future__ import annotations

import pytest

from mlserve.deploy import ImageReference, InvalidImageName, parse_image_reference

VALID = [
    ("seed-rf", ImageReference("seed-rf")),
    ("seed-rf:1.0", ImageReference("seed-rf", "1.0")),
    ("acme/seed_rf:latest", ImageReference("acme/seed_rf", "latest")),
    ("localhost/debian-python", ImageReference("localhost/debian-python")),
    ("localhost:5000/a/b:v1", ImageReference("localhost:5000/a/b", "v1")),
    ("ghcr.io/acme/seed-rf:2026-12", ImageReference("ghcr.io/acme/seed-rf", "2026-12")),
    ("Registry.Example.com/x", ImageReference("Registry.Example.com/x")),
    ("a__b/c.d:T_1", ImageReference("a__b/c.d", "T_1")),
    ("x@sha256:" + "0" * 64, ImageReference("x", None, "sha256:" + "0" * 64)),
]
INVALID = [
    ("", "empty"),
    (" seed", "spaces"),
    ("Seed-RF", "lowercase"),
    ("acme/Seed", "lowercase"),
    ("seed rf", "path must be"),
    ("seed:", "tag"),
    ("seed:-1", "tag"),
    ("seed:" + "t" * 129, "tag"),
    ("-seed", "path must be"),
    ("seed--", "path must be"),
    ("a//b", "path must be"),
    ("exa_mple.com/x", "registry"),
    ("seed@sha256:abc", "digest"),
    ("x" * 256, "longer than"),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_valid_references(text: str, expected: ImageReference) -> None:
    parsed = parse_image_reference(text)
    assert parsed == expected
    assert str(parsed) == text


@pytest.mark.parametrize(("text", "reason"), INVALID, ids=[t[:20] or "empty" for t, _ in INVALID])
def test_invalid_references(text: str, reason: str) -> None:
    with pytest.raises(InvalidImageName, match=reason):
        parse_image_reference(text)


def test_a_new_build_cannot_be_named_by_digest() -> None:
    with pytest.raises(InvalidImageName, match="digest"):
        parse_image_reference("x@sha256:" + "0" * 64, allow_digest=False)


def test_repository() -> None:
    assert parse_image_reference("ghcr.io/acme/seed-rf:1").repository == "seed-rf"

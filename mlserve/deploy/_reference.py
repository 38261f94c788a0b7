"""Image references (``[registry[:port]/]path[:tag][@digest]``), checked against the grammar
docker, podman and buildah share (``github.com/distribution/reference``), so a bad name is
refused before anything is built rather than after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlserve.deploy._errors import InvalidImageName

__all__ = ["ImageReference", "parse_image_reference"]

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_PATH = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_MAX_NAME = 255


@dataclass(frozen=True)
class ImageReference:
    """A parsed image reference: ``name`` (registry and path), ``tag`` and ``digest`` (or None)."""

    name: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def repository(self) -> str:
        """The last path component (``model`` for ``ghcr.io/me/model:1``)."""
        return self.name.rsplit("/", 1)[-1]


def parse_image_reference(text: str, *, allow_digest: bool = True) -> ImageReference:
    """Parse ``text`` as an image reference; raise :class:`InvalidImageName` when it is not one.

    ``allow_digest=False`` refuses ``@sha256:...`` (a name to tag a new build with cannot carry
    the digest of another image).
    """
    ref = text.strip()
    if not ref or ref != text:
        raise InvalidImageName(text, "it is empty or has surrounding spaces")
    rest, _, digest = ref.partition("@")
    if digest:
        if not allow_digest:
            raise InvalidImageName(text, "a digest (@...) cannot name a new build")
        if not _DIGEST.fullmatch(digest):
            raise InvalidImageName(text, f"the digest {digest!r} is malformed")
    name, tag = rest, None
    last_colon = rest.rfind(":")
    if last_colon > rest.rfind("/"):  # a colon after the last slash starts the tag
        name, tag = rest[:last_colon], rest[last_colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise InvalidImageName(
                text, f"the tag {tag!r} must be 1-128 letters, digits, '_', '.' or '-'"
            )
    if len(name) > _MAX_NAME:
        raise InvalidImageName(text, f"the name is longer than {_MAX_NAME} characters")
    domain, sep, path = name.partition("/")
    # the first component is a registry only if it looks like a host (docker's rule)
    if not (
        sep and ("." in domain or ":" in domain or domain == "localhost" or domain.startswith("["))
    ):
        domain, path = "", name
    elif not re.fullmatch(_DOMAIN, domain):
        raise InvalidImageName(text, f"the registry {domain!r} is not a host[:port]")
    if not _PATH.fullmatch(path):
        reason = (
            "the path must be lowercase"
            if _PATH.fullmatch(path.lower())
            else "the path must be lowercase letters and digits, separated by '.', '_', '-' or '/'"
        )
        raise InvalidImageName(text, reason)
    return ImageReference(name, tag, digest or None)

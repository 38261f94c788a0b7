"""Name rules for everything the store turns into a path: run ids, model names, aliases, artifacts.

A name becomes one path component under the tracking root, so it must not be able to name another
directory: no separators, no ``..``, no NUL, no leading dot (the store keeps its temporary and
trash entries under dot-names), and a bounded length. Every store function validates names before
it joins them to a path.
"""

from __future__ import annotations

import re

from mlserve.errors import InvalidName

__all__ = [
    "MAX_NAME_LENGTH",
    "validate_alias",
    "validate_artifact_path",
    "validate_model_name",
    "validate_run_id",
]

MAX_NAME_LENGTH = 255
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ALIAS = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


def _component(kind: str, name: object) -> str:
    """Check that ``name`` is safe as a single path component; return it."""
    if not isinstance(name, str):
        raise InvalidName(kind, repr(name), f"expected a string, got {type(name).__name__}")
    if not name:
        raise InvalidName(kind, name, "it is empty")
    if "\x00" in name:
        raise InvalidName(kind, name.replace("\x00", "\\x00"), "it contains a NUL character")
    if "/" in name or "\\" in name:
        raise InvalidName(kind, name, "it contains a path separator ('/' or '\\')")
    if name.startswith("."):
        raise InvalidName(kind, name, "it starts with a dot")
    if name != name.strip():
        raise InvalidName(kind, name, "it starts or ends with white space")
    if len(name) > MAX_NAME_LENGTH:
        too_long = f"it is longer than {MAX_NAME_LENGTH} characters"
        raise InvalidName(kind, name[:40] + "...", too_long)
    if any(ord(c) < 32 for c in name):
        raise InvalidName(kind, name, "it contains a control character")
    if ":" in name:
        # a colon is a drive letter on Windows and an alternate data stream on NTFS
        raise InvalidName(kind, name, "it contains ':'")
    return name


def validate_model_name(name: object) -> str:
    """Return ``name`` if it is a valid registered model name, else raise ``InvalidName``.

    Allowed: up to 255 characters without '/', '\\', ':', NUL or control characters, not
    starting with a dot, no surrounding white space. '@' is allowed, but such a model can only be
    addressed as ``models:/<name>/<version>`` (``models:/a@b`` means alias ``b`` of model ``a``).
    """
    return _component("registered model", name)


def validate_run_id(run_id: object) -> str:
    """Return ``run_id`` if it is 1-64 of ``[A-Za-z0-9_-]``, else raise ``InvalidName``."""
    _component("run id", run_id)
    assert isinstance(run_id, str)
    if not _RUN_ID.match(run_id):
        raise InvalidName("run id", run_id, "run ids are 1-64 characters of [A-Za-z0-9_-]")
    return run_id


def validate_alias(alias: object) -> str:
    """Return ``alias`` if it is a valid alias, else raise ``InvalidName``.

    Aliases are 1-255 characters of ``[A-Za-z0-9_-]``; ``latest`` and ``v<digits>`` are reserved
    because ``models:/<name>/latest`` and version numbers already mean something.
    """
    _component("alias", alias)
    assert isinstance(alias, str)
    if not _ALIAS.match(alias):
        raise InvalidName("alias", alias, "aliases are characters of [A-Za-z0-9_-]")
    if _RESERVED_ALIAS.match(alias):
        raise InvalidName("alias", alias, "'latest' and 'v<number>' are reserved")
    return alias


def validate_artifact_path(path: object) -> str:
    """Return the normalised artifact path (``a/b``) if every part is valid, else ``InvalidName``.

    Artifact paths may have several '/'-separated parts; each part follows the component rules,
    so ``..``, absolute paths and backslashes are rejected.
    """
    if not isinstance(path, str):
        got = f"expected a string, got {type(path).__name__}"
        raise InvalidName("artifact path", repr(path), got)
    parts = path.strip("/").split("/")
    if path.startswith("/"):
        raise InvalidName("artifact path", path, "it is absolute")
    for part in parts:
        try:
            _component("artifact path", part)
        except InvalidName as exc:
            raise InvalidName("artifact path", path, exc.reason) from None
    return "/".join(parts)

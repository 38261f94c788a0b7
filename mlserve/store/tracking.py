"""Where the tracking store lives: ``set_tracking_uri``, ``MLSERVE_TRACKING_URI``, ``./mlruns``.

The location is resolved at use time, in this order: the value given to :func:`set_tracking_uri`,
the ``MLSERVE_TRACKING_URI`` environment variable, then ``./mlruns`` relative to the current working
directory at that moment. Local paths and ``file://`` URIs are accepted; the directory is created
by the first write, never by a read.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlserve.errors import InvalidURI
from mlserve.uri import LocalURI, parse_model_uri

__all__ = [
    "DEFAULT_TRACKING_DIR",
    "ENV_TRACKING_URI",
    "get_tracking_uri",
    "resolve_tracking_root",
    "set_tracking_uri",
]

ENV_TRACKING_URI = "MLSERVE_TRACKING_URI"
DEFAULT_TRACKING_DIR = "mlruns"

_tracking_uri: str | None = None


def set_tracking_uri(uri: str | os.PathLike[str] | None) -> None:
    """Set the tracking location for this process (a local path or ``file://`` URI).

    ``None`` (or an empty string) clears it, so ``MLSERVE_TRACKING_URI`` or ``./mlruns`` apply
    again. A relative path stays relative: it is resolved against the working directory at each
    use. Raises :class:`~mlserve.errors.InvalidURI` for schemes other than ``file``.
    """
    global _tracking_uri
    if uri is None or (isinstance(uri, str) and not uri.strip()):
        _tracking_uri = None
        return
    value = os.fspath(uri)
    _check(value)
    _tracking_uri = value


def get_tracking_uri() -> str:
    """Return the tracking location in effect.

    The value given to :func:`set_tracking_uri` or ``MLSERVE_TRACKING_URI`` is returned as given;
    with neither, the absolute ``file://`` URI of ``./mlruns`` in the current directory.
    """
    if _tracking_uri is not None:
        return _tracking_uri
    env = os.environ.get(ENV_TRACKING_URI, "").strip()
    if env:
        return env
    return (Path.cwd() / DEFAULT_TRACKING_DIR).as_uri()


def resolve_tracking_root(tracking_uri: str | os.PathLike[str] | None = None) -> Path:
    """Return the absolute directory of the tracking store (``tracking_uri`` or the one in effect).

    The directory may not exist yet. Raises :class:`~mlserve.errors.InvalidURI` when the location
    is not a local path or ``file://`` URI.
    """
    value = get_tracking_uri() if tracking_uri is None else os.fspath(tracking_uri)
    return _check(value).path.expanduser().absolute()


def _check(value: str) -> LocalURI:
    try:
        parsed = parse_model_uri(value)
    except InvalidURI as exc:
        raise InvalidURI(value, f"not a tracking location: {exc.reason}") from None
    if not isinstance(parsed, LocalURI):
        raise InvalidURI(
            value, "the tracking location must be a local directory path or a file:// URI"
        )
    return parsed

"""Content-Type header parsing, as MLflow's scoring server reads the header.

MLflow's ``invocations`` splits the header on ``;``, strips each part and compares the media
type as written (``Application/JSON`` is not ``application/json``); every part after it is a
``key=value`` parameter. ``charset`` (default ``utf-8``, any case) must be ``utf-8``, and any
other parameter (``format=pandas-split``, a bare token, an empty part) is refused: both are its
415. A header with no media type at all is our 415 too (MLflow answers 500).
"""

from __future__ import annotations

from collections.abc import Iterable

from mlserve.errors import UnsupportedContentType

__all__ = ["parse_content_type"]

_UTF8 = "utf-8"


def parse_content_type(header: str | None, supported: Iterable[str]) -> tuple[str, dict[str, str]]:
    """Split a Content-Type header into its media type and its parameters, as MLflow does.

    The media type is returned as written (stripped); parameter names and values as written.
    Raises :class:`UnsupportedContentType` when the header is missing or blank, when a
    ``charset`` other than UTF-8 is named, or when any parameter other than ``charset`` is
    given (MLflow's ``Unrecognized content type parameters``).
    """
    if header is None or not header.strip():
        raise UnsupportedContentType(None, supported)
    media, *parts = (part.strip() for part in header.split(";"))
    params: dict[str, str] = {}
    for part in parts:
        key, _, value = part.partition("=")
        params[key] = value
    if params.get("charset", _UTF8).lower() != _UTF8:
        reason = "the only charset accepted is utf-8"
        raise UnsupportedContentType(header, supported, reason)
    unknown = [k for k in params if k != "charset"]
    if unknown:
        names = ", ".join(repr(k) if k else "'' (an empty part)" for k in unknown[:10])
        reason = f"unknown parameter(s) {names}; the only parameter accepted is charset=utf-8"
        raise UnsupportedContentType(header, supported, reason)
    return media, params

"""Content-Type header parsing: media type (case-insensitive) and parameters."""

from __future__ import annotations

from collections.abc import Iterable

from mlserve.errors import UnsupportedContentType

__all__ = ["parse_content_type"]

_UTF8 = frozenset({"utf-8", "utf8"})


def parse_content_type(
    header: str | None, supported: Iterable[str], *, textual: bool = True
) -> tuple[str, dict[str, str]]:
    """Split a Content-Type header into a lower-case media type and its parameters.

    Parameter names are lower-cased and quoted values unquoted. Parameters other than ``charset``
    are ignored. Raises :class:`UnsupportedContentType` when the header is missing or blank, or
    when ``textual`` is true and ``charset`` is anything but UTF-8.
    """
    if header is None or not header.strip():
        raise UnsupportedContentType(None, supported)
    media_type, *raw = header.split(";")
    params: dict[str, str] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep:
            continue  # a bare token is not a parameter; tolerate it as browsers do
        params[key.strip().lower()] = value.strip().strip('"').strip()
    media = media_type.strip().lower()
    charset = params.get("charset")
    if textual and charset is not None and charset.lower() not in _UTF8:
        raise UnsupportedContentType(header, supported)
    return media, params

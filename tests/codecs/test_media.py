"""Content-Type parsing."""

from __future__ import annotations

import pytest

from mlserve.codecs._media import parse_content_type
from mlserve.errors import UnsupportedContentType

SUPPORTED = ["application/json"]


@pytest.mark.parametrize(
    ("header", "media", "params"),
    [
        pytest.param("application/json", "application/json", {}, id="plain"),
        pytest.param("APPLICATION/JSON", "application/json", {}, id="upper-case"),
        pytest.param(
            " application/json ; charset=UTF-8",
            "application/json",
            {"charset": "UTF-8"},
            id="charset-upper",
        ),
        pytest.param(
            'application/json; charset="utf-8"',
            "application/json",
            {"charset": "utf-8"},
            id="quoted",
        ),
        pytest.param(
            "application/json;charset=utf8",
            "application/json",
            {"charset": "utf8"},
            id="utf8-alias",
        ),
        pytest.param(
            "application/json; format=pandas-split",
            "application/json",
            {"format": "pandas-split"},
            id="other-param-ignored",
        ),
        pytest.param("application/json; ;", "application/json", {}, id="empty-params"),
    ],
)
def test_parse(header: str, media: str, params: dict[str, str]) -> None:
    assert parse_content_type(header, SUPPORTED) == (media, params)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("application/json; charset=iso-8859-1", id="latin1"),
        pytest.param("application/json; charset=utf-16", id="utf16"),
    ],
)
def test_rejected(header: str | None) -> None:
    with pytest.raises(UnsupportedContentType):
        parse_content_type(header, SUPPORTED)


def test_binary_types_ignore_charset() -> None:
    header = "application/vnd.apache.parquet; charset=binary"
    assert (
        parse_content_type(header, SUPPORTED, textual=False)[0] == "application/vnd.apache.parquet"
    )

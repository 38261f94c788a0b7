"""Content-Type parsing."""

from __future__ import annotations

import pytest

from mlserve.codecs._media import parse_content_type
from mlserve.errors import UnsupportedContentType

SUPPORTED = ["application/json"]


# What MLflow 3.17.2's scoring server accepts (its ``invocations`` header parsing), checked
# over HTTP by tests/server/test_mlflow_wire.py; here the parser alone.
@pytest.mark.parametrize(
    ("header", "media", "params"),
    [
        pytest.param("application/json", "application/json", {}, id="plain"),
        pytest.param(
            " application/json ; charset=UTF-8",
            "application/json",
            {"charset": "UTF-8"},
            id="charset-upper",
        ),
        pytest.param(
            "application/json;charset=utf-8",
            "application/json",
            {"charset": "utf-8"},
            id="no-space",
        ),
        # the media type as written: the decoder then finds no codec for it (MLflow's 415)
        pytest.param("APPLICATION/JSON", "APPLICATION/JSON", {}, id="upper-case-kept"),
    ],
)
def test_parse(header: str, media: str, params: dict[str, str]) -> None:
    assert parse_content_type(header, SUPPORTED) == (media, params)


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        pytest.param(None, "no Content-Type header", id="missing"),
        pytest.param("", "no Content-Type header", id="empty"),
        pytest.param("application/json; charset=iso-8859-1", "charset", id="latin1"),
        pytest.param("application/json; charset=utf-16", "charset", id="utf16"),
        # MLflow compares the lower-cased value with "utf-8" exactly
        pytest.param("application/json; charset=utf8", "charset", id="utf8-alias"),
        pytest.param('application/json; charset="utf-8"', "charset", id="quoted"),
        pytest.param("application/json; format=pandas-split", "'format'", id="other-param"),
        pytest.param("application/json; something=else", "'something'", id="unknown-param"),
        pytest.param("application/json; ;", "empty part", id="empty-params"),
        pytest.param("application/json; Charset=utf-8", "'Charset'", id="name-as-written"),
        pytest.param("application/vnd.apache.parquet; charset=binary", "charset", id="binary"),
    ],
)
def test_rejected(header: str | None, fragment: str) -> None:
    with pytest.raises(UnsupportedContentType) as info:
        parse_content_type(header, SUPPORTED)
    assert type(info.value) is UnsupportedContentType and fragment in info.value.message

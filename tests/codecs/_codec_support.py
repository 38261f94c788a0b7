"""Shared fixture and helpers for the codec tests: run a test under both JSON backends; decode
a JSON document, or get the refusal it meets.

(tests/codecs cannot be a package: it would shadow the standard library's ``codecs``.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mlserve.codecs import RequestDecoder, _json
from mlserve.errors import PayloadError, SchemaMismatch
from mlserve.schema import ParamSchema, Schema


@pytest.fixture(params=["orjson", "stdlib"])
def json_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test once with orjson and once with the standard library's json."""
    previous = _json.set_backend(request.param)
    try:
        yield request.param
    finally:
        _json.set_backend(previous)


def decoded(doc: Any, schema: Schema | None = None, params: ParamSchema | None = None) -> Any:
    """The data a JSON request body ``doc`` decodes to for ``schema`` (and ``params``)."""
    body = json.dumps(doc).encode()
    return RequestDecoder(schema, params).decode(body, "application/json").data


def refusal(doc: Any, schema: Schema | None) -> PayloadError | SchemaMismatch:
    """The error decoding ``doc`` raises (the test fails when it decodes)."""
    with pytest.raises((PayloadError, SchemaMismatch)) as info:
        decoded(doc, schema)
    return info.value

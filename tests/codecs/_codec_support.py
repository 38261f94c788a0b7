"""Shared fixture for the codec tests: run a test under both JSON backends.

(tests/codecs cannot be a package: it would shadow the standard library's ``codecs``.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlserve.codecs import _json


@pytest.fixture(params=["orjson", "stdlib"])
def json_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test once with orjson and once with the standard library's json."""
    previous = _json.set_backend(request.param)
    try:
        yield request.param
    finally:
        _json.set_backend(previous)

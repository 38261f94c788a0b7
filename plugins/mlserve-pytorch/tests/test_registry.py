"""The entry point: found by mlserve, and reported broken (others unaffected) without
its framework; mlserve.testing makes each check, for each flavor, a test of its own."""

from __future__ import annotations

from collections.abc import Callable

from mlserve.testing import parametrize_entry_point_checks


@parametrize_entry_point_checks("mlserve-pytorch", {"pytorch": ("torch", "torch")})
def test_entry_point(check: Callable[[], None]) -> None:
    check()

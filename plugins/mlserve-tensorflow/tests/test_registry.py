"""The entry point: found by mlserve, and reported broken (others unaffected) without
its framework."""

from __future__ import annotations

import pytest

from mlserve.testing import check_entry_point, check_reported_broken_without

DISTRIBUTION = "mlserve-tensorflow"


@pytest.mark.parametrize(
    ("flavor_name", "module", "requirement"),
    [
        ("tensorflow", "tensorflow", "tensorflow-cpu"),
        ("keras", "keras", "keras"),
    ],
    ids=["tensorflow-without-tensorflow", "keras-without-keras"],
)
def test_missing_framework_is_reported_and_others_still_work(
    flavor_name: str, module: str, requirement: str
) -> None:
    check_reported_broken_without(flavor_name, DISTRIBUTION, module, requirement)


@pytest.mark.parametrize("name", ["tensorflow", "keras"])
def test_entry_point_is_registered_from_this_distribution(name: str) -> None:
    check_entry_point(name, DISTRIBUTION)

"""Conformance checks for a flavor's entry point: found from its distribution, and reported
broken (the other flavors unaffected) when its framework cannot be imported.

:func:`parametrize_entry_point_checks` makes both checks, for each flavor a distribution
registers, a pytest test of their own: the whole of a plugin's ``test_registry.py``::

    from mlserve.testing import parametrize_entry_point_checks

    @parametrize_entry_point_checks("mlserve-lightgbm", {"lightgbm": ("lightgbm", "lightgbm")})
    def test_entry_point(check):
        check()
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from mlserve._flavor import get_flavor, list_flavors

__all__ = ["check_entry_point", "check_reported_broken_without", "parametrize_entry_point_checks"]

# a fresh interpreter in which importing one module fails as if it were not installed
_PROBE = """
import json, sys
sys.modules[sys.argv[1]] = None
import mlserve
print(json.dumps({
    i.name: {"ok": i.ok, "dist": i.distribution, "error": str(i.error or "")}
    for i in mlserve.list_flavors()
}))
"""


def check_entry_point(name: str, distribution: str) -> None:
    """Assert that flavor ``name`` is registered, loads, and comes from ``distribution``."""
    infos = {info.name: info for info in list_flavors()}
    assert name in infos, f"no flavor {name!r} is registered; found {sorted(infos)}"
    assert infos[name].ok, infos[name].error
    assert infos[name].distribution == distribution
    assert get_flavor(name).name == name


def check_reported_broken_without(
    name: str, distribution: str, module: str, requirement: str
) -> None:
    """Assert that without ``module`` (importing it fails, in a fresh interpreter) flavor
    ``name`` is listed as broken, from ``distribution``, with a ``pip install requirement``
    hint, while mlserve's own flavors still load."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, module], capture_output=True, text=True, check=True
    ).stdout
    flavors = json.loads(out)
    broken = flavors[name]
    assert not broken["ok"], f"flavor {name!r} loaded although {module!r} cannot be imported"
    assert broken["dist"] == distribution
    assert f"pip install {requirement}" in broken["error"], broken["error"]
    assert flavors["sklearn"]["ok"]
    assert flavors["python_function"]["ok"]


def parametrize_entry_point_checks(
    distribution: str, frameworks: Mapping[str, tuple[str, str]]
) -> Any:
    """A ``pytest.mark.parametrize`` over ``check``: for each flavor ``name`` in ``frameworks``,
    :func:`check_entry_point` (test id ``<name>-registered``) and
    :func:`check_reported_broken_without` (``<name>-broken-without-<module>``), as callables
    that take no argument.

    ``frameworks`` maps each flavor ``distribution`` registers to ``(module, requirement)``:
    the module it cannot work without and what ``pip install`` gets it, for example
    ``{"tensorflow": ("tensorflow", "tensorflow-cpu"), "keras": ("keras", "keras")}``.
    """
    import pytest  # mlserve.testing is for test suites; the core never imports pytest

    if not frameworks:
        raise ValueError(f"name at least one flavor that {distribution} registers")
    params = []
    for name, (module, requirement) in frameworks.items():
        registered = functools.partial(check_entry_point, name, distribution)
        params.append(pytest.param(registered, id=f"{name}-registered"))
        broken = functools.partial(
            check_reported_broken_without, name, distribution, module, requirement
        )
        params.append(pytest.param(broken, id=f"{name}-broken-without-{module}"))
    return pytest.mark.parametrize("check", params)

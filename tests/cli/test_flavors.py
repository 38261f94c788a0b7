"""``mlserve flavors``: installed flavors with their distribution, broken ones with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _flavor_dists import DATA, install_distribution

from mlserve._flavor import reset_registry
from mlserve.cli import main


def test_lists_builtin_flavors(capsys: pytest.CaptureFixture[str]) -> None:
    reset_registry()
    assert main(["flavors"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["NAME", "DISTRIBUTION", "VERSION", "ENTRY", "POINT"]
    names = {line.split()[0]: line.split()[1:] for line in out[1:]}
    assert names["sklearn"][0] == "mlserve-core"
    assert names["python_function"][2] == "mlserve.flavors._python_function:flavor"


def test_broken_plugins_are_shown_with_the_reason(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_distribution(DATA / "dist_fake_flavor", site)
    install_distribution(DATA / "dist_broken_flavor", site)
    assert main(["flavors", "--json"]) == 1
    rows = {(r["name"], r["distribution"]): r for r in json.loads(capsys.readouterr().out)}
    assert rows[("sklearn", "mlserve-core")]["status"] == "ok"
    broken = rows[("needs_missing_module", "mlserve-broken-flavor")]
    assert broken["status"] == "broken"
    assert "No module named 'mlserve_no_such_dependency'" in broken["reason"]
    conflict = rows[("constant", "mlserve-fake-flavor")]
    assert "claimed by more than one distribution" in conflict["reason"]
    assert rows[("constant", "mlserve-fake-flavor")]["version"] == "0.3.1"

    assert main(["flavors"]) == 1
    text = capsys.readouterr().out
    assert "  broken: Flavor entry point 'wrong_shape = mlserve_broken_flavor.shape:flavor'" in text

"""Flavors from real on-disk distributions, found through their ``mlserve.flavors`` entry points.

The distributions under tests/data/ are installed into a temporary directory (a ``.dist-info``
next to the package, as ``pip install --target`` leaves it) that is put on ``sys.path``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from _flavor_dists import DATA, forget_modules, install_distribution

import mlserve
from mlserve._flavor import get_flavor, list_flavors
from mlserve.errors import BrokenFlavor, FlavorConflict
from mlserve.testing import check_flavor


def test_a_plugin_flavor_is_discovered_and_used(site: Path, tmp_path: Path) -> None:
    assert install_distribution(DATA / "dist_fake_flavor", site) == "mlserve-fake-flavor"
    info = {i.name: i for i in list_flavors()}["constant"]
    assert (info.distribution, info.version, info.ok) == ("mlserve-fake-flavor", "0.3.1", True)
    assert info.entry_point == "mlserve_fake_flavor:flavor"

    from mlserve_fake_flavor import ConstantModel

    saved = mlserve.save_model(ConstantModel(2.5), tmp_path / "m")  # picked by can_save
    assert list(saved.flavors) == ["constant"]
    assert json.loads((tmp_path / "m" / "constant.json").read_text()) == {"value": 2.5}
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.flavor == "constant"
    np.testing.assert_array_equal(loaded.predict(np.zeros((3, 2))), [2.5, 2.5, 2.5])


def test_the_plugin_passes_the_conformance_kit(site: Path, tmp_path: Path) -> None:
    install_distribution(DATA / "dist_fake_flavor", site)
    from mlserve_fake_flavor import ConstantModel

    check_flavor(get_flavor("constant"), ConstantModel(1.0), np.ones((4, 2)), tmp_path)


def test_broken_plugins_are_reported_and_do_not_stop_the_others(
    site: Path, seed_model, seed_data, tmp_path: Path
) -> None:
    install_distribution(DATA / "dist_broken_flavor", site)
    infos = {i.name: i for i in list_flavors()}
    missing = infos["needs_missing_module"]
    assert not missing.ok and isinstance(missing.error, BrokenFlavor)
    assert missing.error.distribution == "mlserve-broken-flavor"
    assert (
        missing.error.entry_point == "needs_missing_module = mlserve_broken_flavor.imports:flavor"
    )
    assert "ModuleNotFoundError" in missing.error.reason
    assert "lacks the method(s) can_save, save, load" in infos["wrong_shape"].error.reason
    with pytest.raises(BrokenFlavor, match="mlserve-broken-flavor"):
        get_flavor("needs_missing_module")
    # the built-in flavors still save and load
    X, _ = seed_data
    mlserve.save_model(seed_model, tmp_path / "m")
    np.testing.assert_array_equal(
        mlserve.load_model(tmp_path / "m").predict(X[:3]), seed_model.predict(X[:3])
    )


def test_two_distributions_claiming_one_name_conflict(site: Path) -> None:
    install_distribution(DATA / "dist_fake_flavor", site)
    install_distribution(DATA / "dist_broken_flavor", site)
    with pytest.raises(FlavorConflict) as info:
        get_flavor("constant")
    assert info.value.distributions == ["mlserve-broken-flavor", "mlserve-fake-flavor"]
    claims = [i for i in list_flavors() if i.name == "constant"]
    assert len(claims) == 2 and all(isinstance(i.error, FlavorConflict) for i in claims)
    assert get_flavor("sklearn").name == "sklearn"


def test_a_model_needing_a_broken_flavor_names_it(site: Path, tmp_path: Path) -> None:
    install_distribution(DATA / "dist_broken_flavor", site)
    mlserve.Model(flavors={"needs_missing_module": {}}).save(tmp_path / "m")
    with pytest.raises(BrokenFlavor, match="needs_missing_module"):
        mlserve.load_model(tmp_path / "m")


def test_a_plugin_importing_mlserve_names_during_discovery_does_not_deadlock(site: Path) -> None:
    # a plugin whose import asks for mlserve.<name> (MLflow-style flavor modules, or an optional
    # import that fails) re-enters the registry from inside its own discovery
    package = site / "mlserve_probe_flavor"
    package.mkdir()
    (package / "__init__.py").write_text(
        "try:\n    import mlserve.no_such_module  # noqa: F401\nexcept ImportError:\n    pass\n"
        "from mlserve.flavors._python_function import flavor as python_function\n"
        "flavor = python_function\n"
    )
    info = site / "mlserve_probe_flavor-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mlserve-probe-flavor\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(
        "[mlserve.flavors]\nprobe = mlserve_probe_flavor:flavor\n"
    )
    done: list[list[str]] = []
    worker = threading.Thread(
        target=lambda: done.append([i.name for i in list_flavors()]), daemon=True
    )
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "flavor discovery deadlocked"
    assert "probe" in done[0] and "sklearn" in done[0]
    forget_modules("mlserve_probe_flavor")

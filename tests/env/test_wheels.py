"""mlserve.env._wheels: wheels of the installed mlserve distributions, built for real with pip,
installed for real into a scratch directory and imported from there."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from mlserve.env import WheelBuildFailed, build_wheels, local_distributions


def _project(root: Path, version: str, body: str = "VALUE = 1\n") -> Path:
    """A tiny setuptools project ``mlserve-tinyplug`` with a flavor entry point."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "mlserve-tinyplug"\nversion = "{version}"\n'
        '[project.entry-points."mlserve.flavors"]\ntinyplug = "mlserve_tinyplug:flavor"\n'
    )
    (root / "mlserve_tinyplug").mkdir(exist_ok=True)
    (root / "mlserve_tinyplug" / "__init__.py").write_text(body)
    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / "test_x.py").write_text("# not part of the wheel\n")
    return root


def _editable_install(site: Path, project: Path, version: str) -> None:
    """What ``pip install -e`` leaves in site-packages, as far as importlib.metadata reads it."""
    info = site / f"mlserve_tinyplug-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: mlserve-tinyplug\nVersion: {version}\n"
    )
    (info / "entry_points.txt").write_text(
        "[mlserve.flavors]\ntinyplug = mlserve_tinyplug:flavor\n"
    )
    (info / "top_level.txt").write_text("mlserve_tinyplug\n")
    (info / "RECORD").write_text("")
    (info / "direct_url.json").write_text(
        json.dumps({"dir_info": {"editable": True}, "url": project.as_uri()})
    )


def _pip_install(wheel: Path, target: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), str(wheel)],
        check=True,
    )  # fmt: skip


def test_core_wheel_has_the_installed_version_and_installs(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert local_distributions()["mlserve-core"] == version("mlserve-core")
    [wheel] = build_wheels(["mlserve_core"], tmp_path / "out", cache_dir=cache)
    assert wheel.distribution == "mlserve-core"
    assert wheel.version == version("mlserve-core")
    assert wheel.path.parent == tmp_path / "out"
    assert wheel.path.name.startswith(f"mlserve_core-{wheel.version}-")
    names = zipfile.ZipFile(wheel.path).namelist()
    assert "mlserve/env/_wheels.py" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
    # and the wheel is a real, installable distribution
    target = tmp_path / "installed"
    _pip_install(wheel.path, target)
    probe = (
        "import importlib.metadata as m, mlserve.env._wheels;"
        "print(m.version('mlserve-core'), mlserve.env._wheels.__file__)"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {probe}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == wheel.version
    assert out[1].startswith(str(target))


def test_editable_plugin_is_built_from_its_source_and_rebuilt_when_it_changes(
    tmp_path: Path, site: Path
) -> None:
    cache = tmp_path / "cache"
    project = _project(tmp_path / "proj", "0.3.0")
    _editable_install(site, project, "0.3.0")
    assert local_distributions()["mlserve-tinyplug"] == "0.3.0"

    [first] = build_wheels(["mlserve-tinyplug"], tmp_path / "out", cache_dir=cache)
    assert first.version == "0.3.0"
    assert sorted(p.name for p in project.iterdir()) == [
        "mlserve_tinyplug",
        "pyproject.toml",
        "tests",
    ]
    names = zipfile.ZipFile(first.path).namelist()
    assert "mlserve_tinyplug/__init__.py" in names
    assert not [n for n in names if n.startswith("tests/")]

    # a file outside the wheel's sources changes nothing
    (project / "tests" / "test_x.py").write_text("# edited\n")
    [same] = build_wheels(["mlserve-tinyplug"], tmp_path / "out", cache_dir=cache)
    assert same.source_hash == first.source_hash
    assert len(list(cache.glob("mlserve-tinyplug-*/*.whl"))) == 1

    # an edit to the package builds a new wheel carrying it
    (project / "mlserve_tinyplug" / "__init__.py").write_text("VALUE = 2\n")
    [second] = build_wheels(["mlserve-tinyplug"], tmp_path / "out2", cache_dir=cache)
    assert second.source_hash != first.source_hash
    with zipfile.ZipFile(second.path) as zf:
        assert zf.read("mlserve_tinyplug/__init__.py") == b"VALUE = 2\n"

    # a version bump that was never reinstalled is refused, and nothing is cached for it
    _project(project, "0.4.0", body="VALUE = 3\n")
    with pytest.raises(WheelBuildFailed, match=r"builds version 0\.4\.0, but 0\.3\.0 is installed"):
        build_wheels(["mlserve-tinyplug"], tmp_path / "out3", cache_dir=cache)
    assert len(list(cache.glob("mlserve-tinyplug-*"))) == 2
    assert not list(cache.glob(".tmp-*"))


def test_a_distribution_installed_from_a_wheel_is_repacked(tmp_path: Path) -> None:
    # install the core's wheel into a scratch site, then rebuild a wheel from that install
    [built] = build_wheels(["mlserve-core"], tmp_path / "out", cache_dir=tmp_path / "c1")
    target = tmp_path / "site"
    _pip_install(built.path, target)
    code = (
        "import sys, json; from mlserve.env import build_wheels;"
        f"[w] = build_wheels(['mlserve-core'], {str(tmp_path / 'out2')!r},"
        f" cache_dir=__import__('pathlib').Path({str(tmp_path / 'c2')!r}));"
        "from mlserve.env._wheels import _installed;"
        "print(json.dumps([str(w.path), w.version, str(_installed('mlserve-core')._path)]))"
    )
    env_code = f"import sys; sys.path.insert(0, {str(target)!r}); {code}"
    done = subprocess.run(
        [sys.executable, "-I", "-c", env_code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    path, repacked_version, source = json.loads(done.stdout)
    assert Path(source).parent == target  # the scratch install, not the editable one
    assert repacked_version == built.version
    with zipfile.ZipFile(built.path) as a, zipfile.ZipFile(path) as b:
        wanted = {n for n in a.namelist() if not n.endswith("/RECORD")}
        got = {n for n in b.namelist() if not n.endswith("/RECORD")}
        assert got == wanted
        assert all(a.read(n) == b.read(n) for n in wanted)
    again = tmp_path / "site2"
    _pip_install(Path(path), again)
    assert (again / "mlserve" / "env" / "_wheels.py").is_file()


def test_a_name_that_is_not_installed_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WheelBuildFailed, match=r"mlserve-nope.*not installed"):
        build_wheels(["mlserve-nope"], tmp_path / "out", cache_dir=tmp_path / "cache")

"""Install the test flavor distributions under ``tests/data/`` for real, without a network.

Each distribution is copied into a directory next to a hand-written ``.dist-info`` (``METADATA``
and ``entry_points.txt`` taken from its ``pyproject.toml``), exactly what ``pip install
--target`` leaves behind; putting that directory on ``sys.path`` makes ``importlib.metadata``
find the entry points.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"


def install_distribution(source: Path, target: Path) -> str:
    """Install the project in ``source`` into ``target``; returns its distribution name."""
    import tomllib

    project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    name, version = project["name"], project["version"]
    for package in source.iterdir():
        if package.is_dir() and (package / "__init__.py").exists():
            shutil.copytree(package, target / package.name, dirs_exist_ok=True)
    info = target / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, eps in project.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in eps.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (info / "INSTALLER").write_text("tests\n")
    return name


def forget_modules(prefix: str) -> None:
    """Drop imported test-plugin modules so the next test imports them afresh."""
    for module in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
        del sys.modules[module]


def pip_install_distribution(source: Path, target: Path, scratch: Path) -> str:
    """Install the project in ``source`` into ``target`` with pip itself (``--target``, no
    index, no build isolation), from a copy in ``scratch`` so the build leaves nothing in
    tests/data. Unlike :func:`install_distribution`, the install has ``RECORD`` and a
    ``direct_url.json`` naming its source, so ``mlserve.env.build_wheels`` can make its wheel
    (environments and images get plugins that way). Returns the distribution name."""
    import tomllib

    copy = scratch / source.name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(target), str(copy)],
        check=True, timeout=300,
    )  # fmt: skip
    return str(tomllib.loads((source / "pyproject.toml").read_text())["project"]["name"])

"""Hold the layer table of DESIGN.md section 2 against the code.

Every ``import`` of an ``mlserve`` module, at module level or inside a function, is checked: a
module may only import from its own level or below, no core module reaches a built-in flavor, the
server or the CLI, and flavors reach only levels 0-3.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mlserve"

# first dotted component under mlserve -> level; "" is mlserve/__init__.py itself
LEVELS: dict[str, int] = {
    "errors": 0,
    "_store_errors": 0,  # part of mlserve.errors, which re-exports it
    "_plugin_errors": 0,  # likewise
    "_distribution": 0,
    "_types": 0,
    "schema": 1,
    "_uri": 1,
    "mlmodel": 2,
    "codecs": 2,
    "_environment": 2,
    "_trust": 2,
    "store": 3,
    "_flavor": 3,
    "python_model": 3,
    "pyfunc": 4,
    "models": 5,  # MLflow's mlflow.models names, re-exported
    "_api": 5,
    "env": 5,  # builds a model's environment: reads models through the api, caches via store
    "deploy": 5,  # images and manifests: reads models through the store, wheels through env
    "testing": 5,
    "_flavor_modules": 5,
    "": 5,
}
# edge packages: what each may import (top-level components under mlserve)
EDGES: dict[str, set[str]] = {
    # flavors see the core up to level 3, never each other's internals through the core
    "flavors": {name for name, level in LEVELS.items() if level <= 3 and name} | {"flavors"},
    # the server is a thin layer on the public API, the codecs and the errors (and the model's
    # environment, which --env-manager builds before re-executing the server inside it)
    "server": {"", "_api", "codecs", "errors", "server", "env"},
    # the CLI drives everything, the server included, but reaches flavors only via the registry
    "cli": set(LEVELS) | {"server", "cli"},
    # `python -m mlserve` is the command line and nothing else
    "__main__": {"cli"},
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _component(module: str) -> str:
    """``mlserve.store.local`` -> ``store``; ``mlserve`` -> ``""``."""
    parts = module.split(".")
    assert parts[0] == "mlserve", module
    return parts[1] if len(parts) > 1 else ""


def _own_module(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Absolute names of the mlserve modules ``path`` imports, with line numbers."""
    tree = ast.parse(path.read_text(), filename=str(path))
    own = _own_module(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "mlserve"
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "mlserve":
                continue
            if target == "mlserve":
                # `from mlserve import errors` imports a submodule, `from mlserve import x` a name
                for alias in node.names:
                    sub = PACKAGE / alias.name
                    is_module = sub.is_dir() or sub.with_suffix(".py").exists()
                    found.append((node.lineno, f"mlserve.{alias.name}" if is_module else target))
            else:
                found.append((node.lineno, target))
    return found


def _allowed(src: str, dst: str) -> bool:
    if src in EDGES:
        return dst in EDGES[src]
    if dst in EDGES:  # a core module never reaches an edge package
        return False
    return LEVELS[dst] <= LEVELS[src]


def test_every_component_has_a_level() -> None:
    components = {_component(_own_module(p)) for p in _modules()}
    unknown = components - set(LEVELS) - set(EDGES)
    assert not unknown, f"add these to DESIGN.md's layer table and LEVELS here: {unknown}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_only_go_down(path: Path) -> None:
    src = _component(_own_module(path))
    bad = [
        f"line {line}: {target}"
        for line, target in _imports(path)
        if not _allowed(src, _component(target))
    ]
    assert not bad, f"{path.name} ({src or 'mlserve'}) breaks the layering: {bad}"


def test_the_checker_sees_violations(tmp_path: Path) -> None:
    """The rule table itself rejects the imports DESIGN.md forbids."""
    assert not _allowed("schema", "mlmodel")
    assert not _allowed("pyfunc", "flavors")
    assert not _allowed("_api", "server")
    assert not _allowed("flavors", "pyfunc")
    assert not _allowed("server", "store")
    assert _allowed("pyfunc", "schema")
    assert _allowed("cli", "server")


PLUGINS = PACKAGE.parent / "plugins"


@pytest.mark.parametrize(
    "path",
    sorted(PLUGINS.rglob("*.py")),
    ids=lambda p: str(p.relative_to(PLUGINS)),
)
def test_plugins_use_only_the_public_surface(path: Path) -> None:
    """A plugin is written as an outside author would: ``mlserve`` and ``mlserve.testing`` only."""
    tree = ast.parse(path.read_text(), filename=str(path))
    used = {
        name
        for node in ast.walk(tree)
        for name in (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and not node.level
            else []
        )
        if name.split(".")[0] == "mlserve"
    }
    assert used <= {"mlserve", "mlserve.testing"}, f"{path.name} imports {used}"

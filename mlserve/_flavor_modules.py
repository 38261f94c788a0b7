"""``import mlserve.sklearn`` (and any other registered flavor's name): MLflow's module layout.

MLflow users write ``mlflow.sklearn.log_model(...)`` and ``mlflow.pyfunc.load_model(...)``.
mlserve gives the same names without a module per flavor in the core (which would import the
flavors, against the layering rule): this meta path finder answers ``import mlserve.<name>``
when ``<name>`` is a registered flavor and no real submodule has that name, with a module built
by :mod:`mlserve._api._flavor_modules`. ``mlserve.pyfunc`` is a real module (the loaded model);
after it executes, the finder adds MLflow's ``save_model`` / ``log_model`` / ``load_model`` to it.

Installed once by ``import mlserve``; it only looks at names of the form ``mlserve.<name>``, so
every other import passes straight through.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["install", "submodule"]

_PACKAGE = "mlserve"
_PYFUNC_MODULE = "pyfunc"
_PYFUNC_FLAVOR = "python_function"


@functools.cache
def _functions(flavor: str) -> Any:
    # imported on the first call, not at `import mlserve.pyfunc`: mlserve._api imports that
    # module itself, and `import mlserve` must not pull in pandas
    from mlserve._api._flavor_modules import flavor_functions, pyfunc_functions

    return pyfunc_functions() if flavor == _PYFUNC_FLAVOR else flavor_functions(flavor)


def _forwarder(module: str, flavor: str, name: str) -> Callable[..., Any]:
    def forward(*args: Any, **kwargs: Any) -> Any:
        return getattr(_functions(flavor), name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__module__ = module
    mlflow_module = "pyfunc" if flavor == _PYFUNC_FLAVOR else flavor
    forward.__doc__ = (
        f"MLflow's ``mlflow.{mlflow_module}.{name}``, with its arguments; see "
        f"``docs/coming-from-mlflow.md`` and :mod:`mlserve._api._flavor_modules`."
    )
    return forward


def _add_functions(module: types.ModuleType, flavor: str) -> None:
    for name in ("save_model", "log_model", "load_model"):
        if not hasattr(module, name):
            setattr(module, name, _forwarder(module.__name__, flavor, name))
    if not module.__doc__:
        module.__doc__ = f"MLflow's ``mlflow.{flavor}`` under mlserve's name: save, log, load."
    existing = list(getattr(module, "__all__", []))
    names = {*existing, "load_model", "log_model", "save_model"}
    setattr(module, "__all__", sorted(names))  # noqa: B010 - a module built at run time


class _FlavorModuleLoader(importlib.abc.Loader):
    """Builds ``mlserve.<flavor>``: an empty module given that flavor's three functions."""

    def __init__(self, flavor: str) -> None:
        self.flavor = flavor

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        _add_functions(module, self.flavor)


class _PyfuncLoader(importlib.abc.Loader):
    """Runs the real ``mlserve/pyfunc.py``, then adds ``mlflow.pyfunc``'s three functions."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self.real.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self.real.exec_module(module)
        _add_functions(module, _PYFUNC_FLAVOR)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ... for tools
        return getattr(self.real, name)


def _is_flavor(name: str) -> bool:
    from mlserve._flavor import list_flavors

    # a broken or conflicting flavor still gets its module: the first call then raises the
    # BrokenFlavor / FlavorConflict that says why, which "no module named" would hide
    return any(info.name == name for info in list_flavors())


class _FlavorModuleFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != _PACKAGE or name.startswith("_"):
            return None
        real = importlib.machinery.PathFinder.find_spec(fullname, path)
        if real is not None:
            if name == _PYFUNC_MODULE and real.loader is not None:
                real.loader = _PyfuncLoader(real.loader)
            return real
        if name == _PYFUNC_FLAVOR or not _is_flavor(name):
            return None
        return importlib.machinery.ModuleSpec(fullname, _FlavorModuleLoader(name))


# `import mlflow; mlflow.pyfunc.load_model(...)` works without `import mlflow.pyfunc`: these
# modules, and every registered flavor's, are attributes of the package on first access
_ATTRIBUTE_MODULES = frozenset({"errors", "models", "pyfunc", "python_model"})


def submodule(name: str) -> types.ModuleType | None:
    """``mlserve.<name>`` imported, for ``mlserve.__getattr__``: one of MLflow's module names
    (``pyfunc``, ``models``, ...) or a registered flavor's (``sklearn``, ``lightgbm``, ...);
    None for any other name."""
    if name.startswith("_") or name == _PYFUNC_FLAVOR:
        return None
    if name not in _ATTRIBUTE_MODULES and not _is_flavor(name):
        return None
    return importlib.import_module(f"{_PACKAGE}.{name}")


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once per process)."""
    if not any(isinstance(f, _FlavorModuleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _FlavorModuleFinder())

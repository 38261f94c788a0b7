"""Flavors: the protocol a framework plugin implements, and the registry that finds them.

A flavor is an object registered under the entry-point group ``mlserve.flavors``; the
entry-point name is the key it writes under ``flavors:`` in ``MLmodel``. Discovery is lazy (on
first use) and happens once; every loaded object is validated against :class:`Flavor` when it is
registered. A plugin that fails to import or has the wrong shape is recorded as broken, with its
entry point and distribution, and never stops the others; two distributions claiming one name is
an error whenever that name is used. The author's guide is ``docs/writing-a-flavor.md``.

A data file never chooses code to import: ``MLmodel``'s ``flavors:`` keys select among the
registered flavors, and MLflow's ``loader_module`` strings map through the fixed
:data:`LOADER_MODULES` table.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from mlserve._distribution import DISTRIBUTION
from mlserve.errors import (
    BrokenFlavor,
    FlavorConflict,
    FlavorError,
    FlavorNotFound,
    NoFlavorForModel,
)
from mlserve.mlmodel._files import model_file  # re-exported: flavors resolve their files with it

__all__ = [
    "ENTRY_POINT_GROUP",
    "LOADER_MODULES",
    "PYFUNC_SECTION",
    "Capabilities",
    "Flavor",
    "FlavorInfo",
    "Predictor",
    "flavor_for_object",
    "get_flavor",
    "list_flavors",
    "model_file",
    "require_module",
    "reset_registry",
]

ENTRY_POINT_GROUP = "mlserve.flavors"
_CORE_DISTRIBUTION = DISTRIBUTION  # whose flavors are the generic fallbacks

#: The MLmodel section every MLflow-format model may carry; a flavor that wants MLflow's
#: ``mlflow.pyfunc.load_model`` to read its models returns it nested in its own section.
PYFUNC_SECTION = "python_function"

#: MLflow ``loader_module`` values -> the registered flavor that reads such a model. Fixed on
#: purpose: the string in a data file is looked up here and never imported.
LOADER_MODULES: Mapping[str, str] = MappingProxyType(
    {
        "mlflow.sklearn": "sklearn",
        "mlflow.pyfunc.model": "python_function",
        "mlflow.xgboost": "xgboost",
        "mlflow.lightgbm": "lightgbm",
        "mlflow.catboost": "catboost",
        "mlflow.statsmodels": "statsmodels",
        "mlflow.pytorch": "pytorch",
        "mlflow.tensorflow": "tensorflow",
        "mlflow.keras": "keras",
        "mlflow.onnx": "onnx",
        "mlflow.prophet": "prophet",
        "mlflow.spacy": "spacy",
    }
)


@dataclass(frozen=True)
class Capabilities:
    """What a loaded model's predictor can do, declared by its flavor (never probed).

    ``accepts_dataframe`` / ``accepts_ndarray``: the input kinds ``predict`` takes (the core
    converts between the two when only one is accepted); ``supports_params``: ``predict`` uses
    inference params (when false, a request's params are checked against the signature and
    none are passed); ``batchable``: predictions are row-wise, so requests may be merged into
    one call and the output split back by rows; ``thread_safe``: ``predict`` may run in several
    threads at once; ``fork_safe``: the loaded model keeps working in a process forked after it
    was loaded (false for frameworks whose runtime does not survive ``fork()``, such as
    TensorFlow: the server then loads such a model in each worker instead of once before
    forking).
    """

    accepts_dataframe: bool = True
    accepts_ndarray: bool = False
    supports_params: bool = False
    batchable: bool = False
    thread_safe: bool = False
    fork_safe: bool = True


@runtime_checkable
class Predictor(Protocol):
    """A loaded model ready to predict: ``capabilities`` and ``predict(data, params=None)``."""

    capabilities: Capabilities

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on already-validated ``data``; ``params`` are the enforced inference params."""
        ...


@runtime_checkable
class Flavor(Protocol):
    """What a framework plugin provides (see ``docs/writing-a-flavor.md``).

    - ``name``: the key under ``flavors:`` in ``MLmodel``, equal to the entry-point name.
    - ``can_save(obj)``: whether ``save`` handles this object (used when no flavor is given).
    - ``save(obj, path, **options)``: write the model's files into the existing directory
      ``path`` and return this flavor's ``MLmodel`` section (YAML-safe values). A nested
      ``"python_function"`` mapping in it becomes the ``python_function`` section.
    - ``load(path, section)``: read the native model back from the directory.
    - ``predictor(native, section)``: wrap the native model as a :class:`Predictor`.
    - ``requirements(obj)``: the pip distributions the model needs (pinned by the core).

    ``section`` as passed to ``load`` and ``predictor`` is the flavor's own section, with the
    model's ``python_function`` section nested under ``"python_function"`` when there is one.
    """

    name: str

    def can_save(self, obj: Any) -> bool: ...

    def save(self, obj: Any, path: Path, **options: Any) -> dict[str, Any]: ...

    def load(self, path: Path, section: Mapping[str, Any]) -> Any: ...

    def predictor(self, native: Any, section: Mapping[str, Any]) -> Predictor: ...

    def requirements(self, obj: Any | None = None) -> list[str]: ...


_METHODS = ("can_save", "save", "load", "predictor", "requirements")


@dataclass(frozen=True)
class FlavorInfo:
    """One entry of :func:`list_flavors`: a flavor name, where it comes from, and whether it
    can be used (``error`` is ``None``) or not (a :class:`~mlserve.errors.BrokenFlavor` or
    :class:`~mlserve.errors.FlavorConflict`)."""

    name: str
    entry_point: str
    distribution: str
    version: str
    flavor: Flavor | None = None
    error: FlavorError | None = None

    @property
    def ok(self) -> bool:
        """Whether this flavor loaded, validated and has no conflict."""
        return self.error is None


def _validate(obj: Any, name: str) -> str | None:
    """Why ``obj`` does not satisfy :class:`Flavor` under entry-point ``name``, or ``None``."""
    if isinstance(obj, type):
        return f"the entry point names the class {obj.__name__}; it must name an instance"
    missing = [m for m in _METHODS if not callable(getattr(obj, m, None))]
    if missing:
        return f"{type(obj).__name__} lacks the method(s) {', '.join(missing)}"
    declared = getattr(obj, "name", None)
    if declared != name:
        return f"its name attribute is {declared!r}, not the entry-point name {name!r}"
    return None


def _distribution(ep: EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "<unknown>", ""
    return str(dist.metadata["Name"] or dist.name), str(dist.version or "")


class _Registry:
    """Entry points of ``mlserve.flavors``, loaded and validated once, on first use."""

    def __init__(self, source: Callable[[], Iterable[EntryPoint]] | None = None) -> None:
        self._source = source or (lambda: entry_points(group=ENTRY_POINT_GROUP))
        # re-entrant: a plugin imported during discovery may itself look up mlserve.<name>
        # (import mlserve.sklearn, or a failed optional import), which asks this registry again
        self._lock = threading.RLock()
        self._discovering = False
        self._infos: dict[str, list[FlavorInfo]] | None = None

    def reset(self) -> None:
        with self._lock:
            self._infos = None

    def _load(self) -> dict[str, list[FlavorInfo]]:
        infos = self._infos
        if infos is not None:
            return infos
        with self._lock:
            if self._infos is None:
                if self._discovering:  # asked again while importing a plugin: none known yet
                    return {}
                self._discovering = True
                try:
                    self._infos = self._discover()
                finally:
                    self._discovering = False
            return self._infos

    def _discover(self) -> dict[str, list[FlavorInfo]]:
        found: dict[str, list[FlavorInfo]] = {}
        seen: set[tuple[str, str, str]] = set()
        for ep in self._source():
            dist, version = _distribution(ep)
            key = (ep.name, ep.value, dist)
            if key in seen:  # one distribution visible twice on sys.path
                continue
            seen.add(key)
            where = f"{ep.name} = {ep.value}"  # how setup.cfg / pyproject.toml spell it
            try:
                obj = ep.load()
            except Exception as exc:  # a plugin's import error must not stop the others
                reason = f"import failed: {type(exc).__name__}: {exc}"
                error: FlavorError | None = BrokenFlavor(where, dist, reason)
                obj = None
            else:
                problem = _validate(obj, ep.name)
                error = BrokenFlavor(where, dist, problem) if problem else None
            info = FlavorInfo(ep.name, ep.value, dist, version, None if error else obj, error)
            found.setdefault(ep.name, []).append(info)
        for name, infos in found.items():
            dists = {i.distribution for i in infos}
            if len(dists) > 1:
                conflict = FlavorConflict(name, dists)
                found[name] = [
                    FlavorInfo(i.name, i.entry_point, i.distribution, i.version, None, conflict)
                    for i in infos
                ]
        return found

    def names(self) -> list[str]:
        return sorted(n for n, infos in self._load().items() if infos[0].ok)

    def get(self, name: str) -> Flavor:
        infos = self._load().get(name)
        if not infos:
            raise FlavorNotFound(name, self.names())
        info = infos[0]
        if info.error is not None:
            raise info.error
        assert info.flavor is not None
        return info.flavor

    def all(self) -> list[FlavorInfo]:
        return [i for name in sorted(self._load()) for i in self._load()[name]]


_registry = _Registry()


def get_flavor(name: str) -> Flavor:
    """The registered flavor called ``name``.

    Raises :class:`~mlserve.errors.FlavorNotFound` (listing the installed flavors) when no
    distribution provides it, :class:`~mlserve.errors.BrokenFlavor` when its entry point failed
    to import or validate, :class:`~mlserve.errors.FlavorConflict` when two distributions
    claim it.
    """
    return _registry.get(name)


def list_flavors() -> list[FlavorInfo]:
    """Every flavor entry point found, sorted by name: usable ones and, with their ``error``,
    broken and conflicting ones."""
    return _registry.all()


def flavor_for_object(obj: Any) -> Flavor:
    """The usable flavor whose ``can_save(obj)`` is true.

    Flavors from plugin distributions are asked first (in name order), then mlserve's own
    (``sklearn``), and the generic ``python_function`` last, since it accepts any callable.
    A ``can_save`` that raises counts as "no".

    Raises :class:`~mlserve.errors.NoFlavorForModel` when none accepts the object.
    """
    names = _registry.names()
    builtin = {i.name for i in _registry.all() if i.distribution == _CORE_DISTRIBUTION}

    def rank(name: str) -> tuple[int, str]:
        # a plugin is more specific than the core's generic flavors: an XGBClassifier is also a
        # scikit-learn estimator, but its own flavor saves it better
        return (2 if name == PYFUNC_SECTION else 1 if name in builtin else 0, name)

    for name in sorted(names, key=rank):
        flavor = _registry.get(name)
        try:
            accepted = bool(flavor.can_save(obj))
        except Exception:  # a plugin's bug must not block saving with another flavor
            accepted = False
        if accepted:
            return flavor
    raise NoFlavorForModel(f"{type(obj).__module__}.{type(obj).__qualname__}", names)


def reset_registry(source: Callable[[], Iterable[EntryPoint]] | None = None) -> None:
    """Forget what was discovered so the next use scans the entry points again.

    For tests and for programs that install plugins at run time. ``source`` replaces where entry
    points come from (default: the installed distributions' ``mlserve.flavors`` group).
    """
    global _registry
    _registry = _Registry(source)


def require_module(module: str, requirement: str) -> None:
    """Fail the calling flavor module's import when ``module`` is not installed.

    For flavor packages whose framework is an optional install: called at the top of the
    module an entry point names, it makes the registry report that flavor as broken, with
    ``pip install <requirement>`` in the reason, while every other flavor loads as usual.
    Nothing is imported to find out (``importlib.util.find_spec``). Raises ``ImportError``.
    """
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that fails, or a None in sys.modules
        found = False
    if not found:
        raise ImportError(f"{module} is not installed: pip install {requirement}")

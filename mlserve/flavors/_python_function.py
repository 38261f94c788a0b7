"""The ``python_function`` flavor: a :class:`~mlserve.PythonModel` subclass, or a plain function.

Writes MLflow's custom-pyfunc layout: the model pickled with cloudpickle as
``python_model.pkl``, ``artifacts`` copied under ``artifacts/`` and a ``python_function``
section with ``loader_module: mlflow.pyfunc.model``, ``python_model``, ``cloudpickle_version``,
``artifacts`` (``{name: {path, uri}}``) and ``model_config``.
"""

from __future__ import annotations

import pickle
import shutil
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from mlserve._flavor import Capabilities, model_file
from mlserve._trust import check_pickle
from mlserve.errors import InvalidParameterValue, MalformedModel
from mlserve.python_model import PredictCall, PythonModel, PythonModelContext, predict_call

__all__ = ["PythonFunctionFlavor", "flavor"]

_PICKLE = "python_model.pkl"
_ARTIFACTS = "artifacts"
_CAPABILITIES = Capabilities(
    accepts_dataframe=True,
    accepts_ndarray=True,
    supports_params=True,
    batchable=False,
    thread_safe=False,
)


class _FunctionModel(PythonModel):
    """A plain function saved as a model: ``predict`` calls it with the input (and params if
    the function takes them)."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        # inspected once, at save time, never per request
        self.takes_params = predict_call(func).takes_params

    def predict(self, model_input: Any, params: Any = None) -> Any:  # type: ignore[override]
        if self.takes_params:
            return self.func(model_input, params=params)
        return self.func(model_input)


@dataclass(frozen=True)
class _PythonModelPredictor:
    model: PythonModel
    context: PythonModelContext
    call: PredictCall
    capabilities: Capabilities = _CAPABILITIES

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.call(self.model.predict, self.context, data, params)


def _copy_artifacts(artifacts: Mapping[str, Any], path: Path) -> dict[str, dict[str, str]]:
    target_root = path / _ARTIFACTS
    written: dict[str, dict[str, str]] = {}
    taken: set[str] = set()
    for name, source in artifacts.items():
        if not isinstance(name, str) or not name:
            raise InvalidParameterValue(f"artifact names must be non-empty strings; got {name!r}")
        src = Path(source)
        if not src.exists():
            raise InvalidParameterValue(f"artifact {name!r}: no file or directory at {src}")
        basename = src.name
        if basename in taken:  # two artifacts with one file name: keep both
            basename = f"{name}-{basename}"
        taken.add(basename)
        target_root.mkdir(exist_ok=True)
        dst = target_root / basename
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
        written[name] = {"path": f"{_ARTIFACTS}/{basename}", "uri": str(src.resolve())}
    return written


def _missing_code(filename: str, exc: Exception) -> str:
    return (
        f"cannot unpickle {filename}: {type(exc).__name__}: {exc}. The model refers to code "
        "that is not importable in this process: save it with code_paths=[<the module's file "
        "or package>] or install that module where the model is loaded"
    )


class PythonFunctionFlavor:
    """Saves :class:`~mlserve.PythonModel` instances and plain functions; the
    ``python_function`` entry point's object."""

    name = "python_function"

    def __init__(self) -> None:
        self._contexts: weakref.WeakKeyDictionary[Any, PythonModelContext] = (
            weakref.WeakKeyDictionary()
        )

    def can_save(self, obj: Any) -> bool:
        """True for a :class:`~mlserve.PythonModel` or any other callable that is not a class."""
        return isinstance(obj, PythonModel) or (callable(obj) and not isinstance(obj, type))

    def save(
        self,
        obj: Any,
        path: Path,
        *,
        artifacts: Mapping[str, str] | None = None,
        model_config: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Pickle the model into ``path``, copy ``artifacts`` (name -> local file or directory)
        under ``artifacts/``; return the ``python_function`` section.

        Raises :class:`~mlserve.errors.InvalidParameterValue` for a missing artifact, an object
        that is neither a PythonModel nor a function, or one that cannot be pickled.
        """
        import cloudpickle

        if not self.can_save(obj):
            raise InvalidParameterValue(
                f"python_function saves a PythonModel or a function, not {type(obj).__name__}"
            )
        model = obj if isinstance(obj, PythonModel) else _FunctionModel(obj)
        try:
            with open(path / _PICKLE, "wb") as out:
                cloudpickle.dump(model, out)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise InvalidParameterValue(
                f"cannot pickle the {type(obj).__name__} model: {type(exc).__name__}: {exc}. "
                "Create unpicklable state (locks, connections, open files) in load_context"
            ) from exc
        section: dict[str, Any] = {
            "loader_module": "mlflow.pyfunc.model",
            "python_model": _PICKLE,
            "cloudpickle_version": version("cloudpickle"),
            "code": None,
        }
        if artifacts:
            section["artifacts"] = _copy_artifacts(artifacts, path)
        if model_config:
            section["model_config"] = dict(model_config)
        return section

    def load(self, path: Path, section: Mapping[str, Any]) -> PythonModel:
        """Unpickle the model and run its ``load_context`` with the artifacts' local paths.

        Raises :class:`~mlserve.errors.MalformedModel` when the pickle or an artifact is missing,
        or when the pickle refers to a module that cannot be imported here.
        """
        path = Path(path)
        filename = str(section.get("python_model") or _PICKLE)
        target = check_pickle(path, filename)  # a cloudpickle: the trust policy decides
        try:
            with open(target, "rb") as src:
                model = pickle.load(src)  # loading a model runs its code by design
        except FileNotFoundError as exc:
            raise MalformedModel(str(path), f"the model file {filename} is missing") from exc
        except (pickle.UnpicklingError, EOFError) as exc:
            raise MalformedModel(str(path), f"cannot unpickle {filename}: {exc}") from exc
        except (ImportError, AttributeError) as exc:
            # cloudpickle stores classes and functions of importable modules by reference
            raise MalformedModel(str(path), _missing_code(filename, exc)) from exc
        context = self._context(path, section)
        model.load_context(context)
        self._remember(model, context)
        return model

    def _remember(self, model: Any, context: PythonModelContext) -> None:
        # predictor() gets the native model only; it finds the context load() built here
        try:
            self._contexts[model] = context
        except TypeError:  # a model class that made itself unhashable
            model.__dict__["_mlserve_context"] = context

    @staticmethod
    def _context(path: Path, section: Mapping[str, Any]) -> PythonModelContext:
        artifacts: dict[str, str] = {}
        for name, entry in (section.get("artifacts") or {}).items():
            rel = entry.get("path") if isinstance(entry, Mapping) else entry
            local = model_file(path, rel)
            if not local.exists():
                raise MalformedModel(str(path), f"artifact {name!r} is missing ({rel})")
            artifacts[str(name)] = str(local)
        return PythonModelContext(
            artifacts=artifacts, model_config=dict(section.get("model_config") or {})
        )

    def predictor(self, native: Any, section: Mapping[str, Any]) -> _PythonModelPredictor:
        """Wrap the loaded model; how to call its ``predict`` is worked out here, once."""
        try:
            context = self._contexts.get(native)
        except TypeError:
            context = None
        context = context or native.__dict__.get("_mlserve_context") or PythonModelContext()
        return _PythonModelPredictor(native, context, predict_call(native.predict))

    def requirements(self, obj: Any | None = None) -> list[str]:
        """cloudpickle, which the pickled model needs; list your own in pip_requirements."""
        return ["cloudpickle"]


flavor = PythonFunctionFlavor()
